#!/bin/bash
# Packs what gapstream's CUDA checks need on a GPU machine that has an NVIDIA driver but neither
# CUDA 12 nor a JDK, and takes a limited size per transfer (the device machine lent to some
# sessions here: 64 MiB a call; BENCHMARKS.md, "GPU"):
#   - ONNX Runtime's CUDA build's Linux libraries, read out of the onnxruntime_gpu jar on Maven
#     Central by byte range (the jar is 742 MB);
#   - CUDA 12's runtime (12.9: the provider calls cudaLibraryLoadData, which 12.5's lacks; from
#     bytedeco's cuda-redist jar on Maven Central) and cuBLAS 12.5 (Debian experimental, whose
#     pool drops a version once a newer one comes; snapshot.debian.org keeps them);
#   - the CUDA libraries' code for other GPUs than sm_SM zeroed (fatbin_prune.py), so that the
#     bundle, 1.3 GB unpacked, is 308 MB of xz (for sm_90);
#   - a jlink'd JRE 17 with the system libraries it loads, the build's jars, test classes and
#     JMH benchmarks, JUnit's console launcher, JMH and run.sh.
# cuDNN 9 and libcurand.so.10 are the machine's own (CUDA 13's curand keeps the soname). The
# result: OUT_DIR/gpu.tar.xz split into parts of PART_BYTES, and its SHA-256; run.sh joins and
# runs them there (its header says how).
# Run from the repository root on Debian 12 with a JDK 17, after ./mvnw -DskipTests package.
# Usage: tools/gpu-check/bundle.sh OUT_DIR [SM (default 90)] [PART_BYTES (default 54000000)]
set -euo pipefail
out=$1 sm=${2:-90} part=${3:-54000000}
tools=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
pom() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" pom.xml | head -1; }
ort=$(pom onnxruntime.version) junit=$(pom junit.version) assertj=$(pom assertj.version)
central=https://repo.maven.apache.org/maven2
debian=http://deb.debian.org/debian/pool/non-free/n/nvidia-cuda-toolkit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g=$work/gpu
mkdir -p "$g"/{ort,cuda12,lib,junit,jmh,syslib} "$out"

echo "ONNX Runtime $ort's CUDA build, Linux libraries"
$py "$tools/remote_zip.py" "$central/com/microsoft/onnxruntime/onnxruntime_gpu/$ort/onnxruntime_gpu-$ort.jar" \
  "$work/ort" ai/onnxruntime/native/linux-x64/{libonnxruntime.so,libonnxruntime4j_jni.so,libonnxruntime_providers_shared.so,libonnxruntime_providers_cuda.so}
mv "$work"/ort/lib{onnxruntime.so,onnxruntime4j_jni.so,onnxruntime_providers_shared.so} "$g/ort/"
$py "$tools/fatbin_prune.py" "$work/ort/libonnxruntime_providers_cuda.so" "$g/ort/libonnxruntime_providers_cuda.so" "$sm"

echo "CUDA 12's runtime and cuBLAS"
$py "$tools/remote_zip.py" "$central/org/bytedeco/cuda-redist/12.9-9.10-1.5.12/cuda-redist-12.9-9.10-1.5.12-linux-x86_64.jar" \
  "$g/cuda12" org/bytedeco/cuda/linux-x86_64/libcudart.so.12
for deb in libcublas12_12.5.2.13~12.5.0-2+b1 libcublaslt12_12.5.2.13~12.5.0-2+b1; do
  curl -fsS -o "$work/$deb.deb" "$debian/${deb}_amd64.deb"
  dpkg-deb -x "$work/$deb.deb" "$work/deb"
done
for lib in libcublas.so.12 libcublasLt.so.12; do
  $py "$tools/fatbin_prune.py" "$work/deb/usr/lib/x86_64-linux-gnu/$lib" "$g/cuda12/$lib" "$sm"
done

echo "JRE, jars, test classes"
jlink --add-modules java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.prefs,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.transaction.xa,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.jfr,jdk.management,jdk.management.jfr,jdk.naming.dns,jdk.net,jdk.security.auth,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --output "$g/jre"
# The libraries Debian's JRE loads from the system (ldd), but X11's and ALSA's: a machine with
# another distribution may lack them or have other versions (Ubuntu has no libjpeg.so.62).
for lib in libjpeg.so.62 liblcms2.so.2 libpng16.so.16 libz.so.1 libgif.so.7 libfreetype.so.6 \
    libbrotlicommon.so.1 libbrotlidec.so.1 libbsd.so.0 libmd.so.0 libglib-2.0.so.0 \
    libgraphite2.so.3 libharfbuzz.so.0 libpcre2-8.so.0; do
  cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$g/syslib/"
done
cp target/gapstream.jar "$g/"
# The jars the manifest's Class-Path names, not all of target/lib: copy-dependencies never empties
# it, so an earlier build's versions may lie there too, and run.sh's class path would list both.
for jar in $(unzip -p target/gapstream.jar META-INF/MANIFEST.MF | tr -d '\r' \
    | awk '/^Class-Path: /{c=1; s=substr($0,13); next} c&&/^ /{s=s substr($0,2); next} {c=0} END{print s}'); do
  cp "target/$jar" "$g/lib/"
done
zip -q -d "$g/lib/onnxruntime-$ort.jar" 'ai/onnxruntime/native/*'  # run.sh names the libraries' folder
./mvnw -q -B -Pjmh test-compile  # the JMH benchmarks too, for run.sh's JMH=
cp -r target/test-classes "$g/"
./mvnw -q -B -Pjmh dependency:copy-dependencies -DincludeArtifactIds=jmh-core,jopt-simple,commons-math3 \
  -DoutputDirectory="$g/jmh"
./mvnw -q -B dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit
cp ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit/*-$junit.jar \
  ~/.m2/repository/org/assertj/assertj-core/$assertj/assertj-core-$assertj.jar "$g/junit/"
cp "$tools/run.sh" "$g/"

echo "gpu.tar.xz, in parts of $part bytes"
tar -C "$work" -cf - gpu | xz -T0 -6 > "$work/gpu.tar.xz"
(cd "$work" && sha256sum gpu.tar.xz) > "$out/gpu.tar.xz.sha256"
split -b "$part" -d -a 2 "$work/gpu.tar.xz" "$out/gpu.tar.xz.part"
ls -l "$out"
