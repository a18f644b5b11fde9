package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders the kustomize base and every overlay with the real kubectl and checks the result against
 * fabric8's typed models (unknown fields fail) and against what gapstream actually serves.
 */
class KubernetesManifestsTest {

  private static final Set<String> UNTYPED_KINDS =
      Set.of("keda.sh/v1alpha1/ScaledObject", "keda.sh/v1alpha1/TriggerAuthentication");

  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void rendersKnownKindsThatBindStrictly(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    assertThat(docs).isNotEmpty();
    for (JsonNode doc : docs) {
      String type = StrictModel.typeKey(doc);
      assertThat(StrictModel.TYPES.containsKey(type) || UNTYPED_KINDS.contains(type))
          .as("%s renders an unexpected kind %s", dir, type)
          .isTrue();
      try {
        StrictModel.bind(doc);
      } catch (Exception e) {
        fail(dir + ": " + type + " " + doc.path("metadata").path("name").asText()
            + " does not match the Kubernetes schema: " + e.getMessage());
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void deploymentIsHardenedAndProbesTheManagementPort(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    Deployment deployment = StrictModel.bind(Manifests.only(docs, "Deployment"), Deployment.class);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = gapstream(pod);

    assertThat(c.getPorts()).extracting(ContainerPort::getName, ContainerPort::getContainerPort)
        .contains(org.assertj.core.groups.Tuple.tuple("http", 8080));
    assertProbe(c.getLivenessProbe().getHttpGet(), "/health/live");
    assertProbe(c.getReadinessProbe().getHttpGet(), "/health/ready");
    assertThat(c.getStartupProbe()).as("startup probe").isNotNull();
    assertThat(pod.getTerminationGracePeriodSeconds()).as("grace > 30 s drain").isGreaterThan(30);

    assertThat(pod.getEnableServiceLinks()).as("enableServiceLinks (GAPSTREAM_PORT=tcp://...)").isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    String tmpVolume = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp"))
        .findFirst().orElseThrow(() -> new AssertionError("/tmp not mounted")).getName();
    assertThat(pod.getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo(tmpVolume);
      assertThat(v.getEmptyDir()).as("/tmp is an emptyDir").isNotNull();
    });
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits()).containsKey("memory");

    String configMap = c.getEnvFrom().get(0).getConfigMapRef().getName();
    assertThat(docs).as("envFrom names a rendered ConfigMap").anySatisfy(d -> {
      assertThat(d.path("kind").asText()).isEqualTo("ConfigMap");
      assertThat(d.path("metadata").path("name").asText()).isEqualTo(configMap);
    });
    ServiceAccount sa = StrictModel.bind(Manifests.only(docs, "ServiceAccount"), ServiceAccount.class);
    assertThat(pod.getServiceAccountName()).isEqualTo(sa.getMetadata().getName());
    assertThat(sa.getAutomountServiceAccountToken()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void selectorsAndPortNamesLineUp(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    Deployment deployment = StrictModel.bind(Manifests.only(docs, "Deployment"), Deployment.class);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    Set<String> portNames = gapstream(deployment.getSpec().getTemplate().getSpec()).getPorts()
        .stream().map(ContainerPort::getName).collect(Collectors.toSet());

    Service svc = StrictModel.bind(Manifests.only(docs, "Service"), Service.class);
    assertThat(podLabels).containsAllEntriesOf(svc.getSpec().getSelector());
    assertThat(svc.getSpec().getPorts()).anySatisfy(p -> {
      assertThat(p.getName()).isEqualTo("http");
      assertThat(p.getPort()).isEqualTo(8080);
      assertThat(portNames).contains(p.getTargetPort().getStrVal());
    });

    PodDisruptionBudget pdb =
        StrictModel.bind(Manifests.only(docs, "PodDisruptionBudget"), PodDisruptionBudget.class);
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getUnhealthyPodEvictionPolicy())
        .as("pods unready in a Kafka outage must not block node drains")
        .isEqualTo("AlwaysAllow");

    PodMonitor pm = StrictModel.bind(Manifests.only(docs, "PodMonitor"), PodMonitor.class);
    assertThat(podLabels).containsAllEntriesOf(pm.getSpec().getSelector().getMatchLabels());
    assertThat(pm.getSpec().getPodMetricsEndpoints()).isNotEmpty().allSatisfy(e -> {
      assertThat(portNames).as("PodMonitor port is a container port name").contains(e.getPort());
      assertThat(e.getPath()).isEqualTo("/metrics");
    });

    NetworkPolicy np = StrictModel.bind(Manifests.only(docs, "NetworkPolicy"), NetworkPolicy.class);
    assertThat(podLabels).containsAllEntriesOf(np.getSpec().getPodSelector().getMatchLabels());
    assertThat(np.getSpec().getIngress()).flatExtracting(r -> r.getPorts())
        .anySatisfy(p -> assertThat(portNames).contains(p.getPort().getStrVal()));
    Set<Integer> egressPorts = np.getSpec().getEgress().stream()
        .flatMap(r -> r.getPorts().stream()).map(p -> p.getPort().getIntVal())
        .collect(Collectors.toSet());
    assertThat(egressPorts).contains(9092, 9093, 53);
  }

  @Test
  void overlaysChangeWhatTheyPromise() throws Exception {
    List<JsonNode> dev = Manifests.render("k8s/overlays/dev");
    assertThat(StrictModel.bind(Manifests.only(dev, "Deployment"), Deployment.class).getSpec()
        .getReplicas()).isEqualTo(1);
    assertThat(dev).noneMatch(d -> d.path("kind").asText().equals("ScaledObject"));
    assertThat(env(dev)).containsEntry("GAPSTREAM_LOG_LEVEL", "DEBUG");

    List<JsonNode> prod = Manifests.render("k8s/overlays/prod");
    PodSpec prodPod = pod(prod);
    assertThat(prodPod.getTopologySpreadConstraints()).isNotEmpty();
    assertThat(prodPod.getAffinity().getPodAntiAffinity()).isNotNull();
    assertThat(env(prod)).containsEntry("GAPSTREAM_KAFKA_CONSUMER_SECURITY_PROTOCOL", "SASL_SSL")
        .containsEntry("GAPSTREAM_KAFKA_PRODUCER_SECURITY_PROTOCOL", "SASL_SSL");
    assertThat(gapstream(prodPod).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("GAPSTREAM_KAFKA_CONSUMER_SASL_JAAS_CONFIG");
      assertThat(e.getValueFrom().getSecretKeyRef()).isNotNull();
    });
    assertThat(Manifests.only(prod, "ScaledObject").at("/spec/minReplicaCount").asInt())
        .isGreaterThan(1);

    List<JsonNode> gpu = Manifests.render("k8s/overlays/gpu");
    PodSpec gpuPod = pod(gpu);
    assertThat(gapstream(gpuPod).getResources().getLimits().get("nvidia.com/gpu").getAmount())
        .isEqualTo("1");
    assertThat(gapstream(gpuPod).getImage()).endsWith("-cuda");
    assertThat(gpuPod.getNodeSelector())
        .as("the GPU limit places the pod; GPU node labels differ between clusters, and one selected"
            + " on left pods Pending where no node had it")
        .isNullOrEmpty();
    assertThat(gpuPod.getTolerations()).anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
    assertThat(env(gpu)).containsEntry("GAPSTREAM_INFERENCE_PROVIDER", "cuda");
    assertThat(gapstream(gpuPod).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("GAPSTREAM_KAFKA_PRODUCER_SASL_JAAS_CONFIG");
      assertThat(e.getValueFrom().getSecretKeyRef()).isNotNull();
    });
    assertThat(gapstream(gpuPod).getVolumeMounts()).extracting(m -> m.getName()).contains("kafka-ca", "tmp");
    // HOME (/app) is on the read-only root: CUDA's cache of kernels compiled from PTX goes to /tmp.
    String cudaCache = gapstream(gpuPod).getEnv().stream()
        .filter(e -> e.getName().equals("CUDA_CACHE_PATH"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no CUDA_CACHE_PATH in the gpu pod"))
        .getValue();
    assertThat(gapstream(gpuPod).getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(gapstream(gpuPod).getVolumeMounts())
        .as("CUDA's kernel cache %s on a writable volume", cudaCache)
        .anySatisfy(m -> {
          assertThat(cudaCache).startsWith(m.getMountPath() + "/");
          assertThat(m.getReadOnly()).isNotEqualTo(Boolean.TRUE);
          assertThat(gpuPod.getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo(m.getName());
            assertThat(v.getEmptyDir()).isNotNull();
          });
        });
    // A GPU replica does several CPU replicas' work: the base's target lag is a tenth of a second of it.
    assertThat(lagThreshold(gpu)).isGreaterThanOrEqualTo(5 * lagThreshold(prod));
  }

  private static int lagThreshold(List<JsonNode> docs) {
    return Integer.parseInt(Manifests.only(docs, "ScaledObject").at("/spec/triggers/0/metadata/lagThreshold").asText());
  }

  /**
   * The JVM in a pod without a CPU limit sees every core of the node, so the inference threads are
   * set explicitly, and together they must not outnumber the CPUs the pod requests: ONNX Runtime's
   * threads preempting each other cost more than the thread they add (docs/OPERATIONS.md).
   */
  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"})
  void inferenceThreadsFitTheCpuRequest(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    Map<String, String> env = env(docs);
    assertThat(env).containsKeys("GAPSTREAM_INFERENCE_THREADS", "GAPSTREAM_INFERENCE_CONCURRENCY");
    int threads = Integer.parseInt(env.get("GAPSTREAM_INFERENCE_THREADS"));
    int concurrency = Integer.parseInt(env.get("GAPSTREAM_INFERENCE_CONCURRENCY"));
    double cpus = gapstream(pod(docs)).getResources().getRequests().get("cpu").getNumericalAmount().doubleValue();
    assertThat((double) threads * concurrency).as("%s: threads × concurrency vs %s CPUs requested", dir, cpus)
        .isLessThanOrEqualTo(Math.max(1, Math.ceil(cpus)));
  }

  /**
   * Without a CPU limit the JVM sees the node's cores and sizes the collector's threads and the
   * decode pool ({@code ingest.decode.threads}: the CPUs) by them; the pod tells it its request.
   * The options are run by this JVM's own {@code java}, the request put in as the kubelet would.
   */
  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void theJvmIsToldTheCpusThePodRequests(String dir) throws Exception {
    Container c = gapstream(pod(Manifests.render(dir)));
    List<String> names = c.getEnv().stream().map(EnvVar::getName).collect(Collectors.toList());
    EnvVar request = c.getEnv().get(names.indexOf("POD_CPU_REQUEST"));
    assertThat(request.getValueFrom().getResourceFieldRef().getResource()).isEqualTo("requests.cpu");
    assertThat(request.getValueFrom().getResourceFieldRef().getDivisor().getAmount()).isEqualTo("1");
    int options = names.indexOf("JAVA_TOOL_OPTIONS");
    assertThat(options).as("JAVA_TOOL_OPTIONS after the variable it refers to")
        .isGreaterThan(names.indexOf("POD_CPU_REQUEST"));
    String value = c.getEnv().get(options).getValue();
    assertThat(value).contains("-XX:ActiveProcessorCount=$(POD_CPU_REQUEST)", "-XX:+UseG1GC");

    // The kubelet rounds the request up to whole CPUs (divisor 1): 250m gives 1.
    int cpus = (int) Math.ceil(c.getResources().getRequests().get("cpu").getNumericalAmount().doubleValue());
    ProcessBuilder java = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+PrintFlagsFinal", "-version");
    java.environment().put("JAVA_TOOL_OPTIONS", value.replace("$(POD_CPU_REQUEST)", String.valueOf(cpus)));
    java.redirectErrorStream(true);
    Process process = java.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(out).isZero();
    assertThat(out).containsPattern("int ActiveProcessorCount +=  ?" + cpus + " ")
        .containsPattern("bool UseG1GC +=  ?true ");
  }

  /**
   * The heap the JVM takes in the pod leaves the memory limit room for what lives outside it:
   * {@code BackpressureIT}'s backlog of 1920x1080 frames at their own size peaked at 882 MiB
   * resident with a 384 MiB heap (docs/OPERATIONS.md), so 498 MiB of metaspace, code cache,
   * threads, direct-memory batch tensors and ONNX Runtime's working memory. The heap is what this
   * JVM's own {@code java} makes of the image's ENTRYPOINT options (which beat JAVA_TOOL_OPTIONS)
   * and the pod's JAVA_TOOL_OPTIONS, given the limit as its memory.
   */
  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void theHeapLeavesTheMeasuredNativeMemoryWithinTheLimit(String dir) throws Exception {
    long outsideHeap = (882L - 384) << 20;
    Container c = gapstream(pod(Manifests.render(dir)));
    long limit = Quantity.getAmountInBytes(c.getResources().getLimits().get("memory")).longValueExact();
    String options = c.getEnv().stream().filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS")).findFirst()
        .orElseThrow().getValue().replace("$(POD_CPU_REQUEST)", "2");

    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(Dockerfile.read().jvmOptions());
    command.addAll(List.of("-XX:MaxRAM=" + limit, "-XX:+PrintFlagsFinal", "-version"));
    ProcessBuilder java = new ProcessBuilder(command);
    java.environment().put("JAVA_TOOL_OPTIONS", options);
    java.redirectErrorStream(true);
    Process process = java.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(out).isZero();
    Matcher heap = Pattern.compile("size_t MaxHeapSize += (\\d+) ").matcher(out);
    assertThat(heap.find()).as(out).isTrue();
    long maxHeap = Long.parseLong(heap.group(1));
    assertThat(limit - maxHeap)
        .as("%s: %d MiB limit less a %d MiB heap, against the %d MiB measured outside the heap",
            dir, limit >> 20, maxHeap >> 20, outsideHeap >> 20)
        .isGreaterThanOrEqualTo(outsideHeap);
  }

  /**
   * The brokers' address comes from the ConfigMap by key, not only through envFrom: a ConfigMap
   * without it stops the pod at its start, where {@code run} would start an embedded broker.
   */
  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void aPodWithoutTheBrokersAddressDoesNotStart(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    Container c = gapstream(pod(docs));
    EnvVar servers = c.getEnv().stream().filter(e -> e.getName().equals("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS"))
        .findFirst().orElseThrow();
    var ref = servers.getValueFrom().getConfigMapKeyRef();
    assertThat(ref.getName()).as("the rendered ConfigMap, hash and all").isEqualTo(c.getEnvFrom().get(0).getConfigMapRef().getName());
    assertThat(ref.getKey()).isEqualTo("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(ref.getOptional()).as("optional").isNotEqualTo(Boolean.TRUE);
    assertThat(env(docs).get(ref.getKey())).as("the address the pod starts with").isNotBlank();
  }

  /**
   * An overlay brings the namespace it deploys into: applied to a cluster without it, every
   * resource was refused ("namespaces \"gapstream\" not found"), and no step created it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void anOverlayCreatesTheNamespaceItDeploysInto(String overlay) {
    List<JsonNode> docs = Manifests.render("k8s/overlays/" + overlay);
    JsonNode namespace = Manifests.only(docs, "Namespace");
    Set<String> used = new HashSet<>();
    docs.stream().filter(d -> !d.path("kind").asText().equals("Namespace"))
        .forEach(d -> used.add(d.at("/metadata/namespace").asText()));
    assertThat(used).containsExactly(namespace.at("/metadata/name").asText());
    assertThat(namespace.at("/metadata/labels/pod-security.kubernetes.io~1enforce").asText()).isEqualTo("restricted");
  }

  /**
   * {@code -l app.kubernetes.io/part-of=gapstream} selects everything an overlay applies (to list,
   * prune or delete it): the base labels its own resources, and a component's or an overlay's come
   * with the label of their own.
   */
  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void everyResourceAnOverlayAppliesIsPartOfGapstream(String overlay) {
    assertThat(Manifests.render("k8s/overlays/" + overlay)).allSatisfy(d ->
        assertThat(d.at("/metadata/labels/app.kubernetes.io~1part-of").asText())
            .as("%s: %s %s", overlay, d.path("kind").asText(), d.at("/metadata/name").asText())
            .isEqualTo("gapstream"));
  }

  /** What the pod's configuration and environment give the loader is accepted, key by key. */
  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void thePodsConfigurationLoads(String dir, @TempDir Path tmp) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    Map<String, String> environment = podEnvironment(docs);
    GapstreamConfig config = podConfig(docs, tmp);
    assertThat(config.kafka().bootstrapServers()).isEqualTo(environment.get("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS"));
    assertThat(config.inference().threads())
        .isEqualTo(Integer.parseInt(environment.get("GAPSTREAM_INFERENCE_THREADS")));
    // The probes, the Service, the PodMonitor and the NetworkPolicy reach the port named http.
    assertThat(gapstream(pod(docs)).getPorts())
        .as("%s: the container port named http is http.port, %d", dir, config.httpPort())
        .anySatisfy(p -> {
          assertThat(p.getName()).isEqualTo("http");
          assertThat(p.getContainerPort()).isEqualTo(config.httpPort());
        });
    assertThat(config.liveViewEnabled())
        .as("the live view, which shows camera frames unauthenticated, is off in production")
        .isEqualTo(dir.endsWith("base") || dir.endsWith("dev"));
  }

  /**
   * An operator edits app.yaml and the pod serves the edit. The container's environment is the
   * image's with the pod's over it, and the environment beats the file: a configuration variable
   * baked into the image would win over app.yaml while nothing in the manifests shows it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void anEditOfAppYamlTakesEffectInThePod(String dir, @TempDir Path tmp) throws Exception {
    Map<String, String> image = Dockerfile.read().env();
    List<JsonNode> docs = Manifests.render(dir);
    Map<String, String> data = env(docs);
    String edited = data.get("app.yaml")
        .replaceFirst("(?m)^inference\\.model\\.path: .*$", "inference.model.path: /models/ours/model.onnx")
        .replaceFirst("(?m)^http\\.port: .*$", "http.port: 9464");
    assertThat(edited).as("app.yaml sets both keys").isNotEqualTo(data.get("app.yaml"))
        .contains("inference.model.path: /models/ours/model.onnx", "http.port: 9464");
    Map<String, String> environment = new HashMap<>(image);
    data.forEach((k, v) -> { if (!k.equals("app.yaml")) environment.put(k, v); });
    gapstream(pod(docs)).getEnv().forEach(e -> environment.put(e.getName(), value(e, data)));

    GapstreamConfig config = ConfigLoader.builder()
        .file(Files.writeString(tmp.resolve("app.yaml"), edited))
        .env(environment)
        .load();
    assertThat(config.inference().modelPath()).isEqualTo(Path.of("/models/ours/model.onnx"));
    assertThat(config.httpPort()).isEqualTo(9464);
    // Nor any key app.yaml may come to set.
    assertThat(image.keySet()).as("the image's configuration variables")
        .noneMatch(name -> name.startsWith("GAPSTREAM_") && !ConfigKeys.NON_CONFIG_ENV.contains(name));
  }

  @Test
  void strictBindingRejectsAMisspelledField() throws Exception {
    JsonNode doc = Manifests.render("k8s/base").stream()
        .filter(d -> d.path("kind").asText().equals("Deployment")).findFirst().orElseThrow();
    var container = (com.fasterxml.jackson.databind.node.ObjectNode)
        doc.at("/spec/template/spec/containers/0");
    container.set("livenesProbe", container.get("livenessProbe"));
    assertThatThrownBy(() -> StrictModel.bind(doc)).hasMessageContaining("livenesProbe");
  }

  /**
   * The configuration gapstream runs with in the rendered pod: its app.yaml under the ConfigMap's
   * and the container's environment, which win over the file. Values that other manifests must
   * match (the ScaledObject's group, the KafkaUser's topics) are read here, not from app.yaml alone,
   * where a GAPSTREAM_* variable of an overlay would go unseen.
   */
  static GapstreamConfig podConfig(List<JsonNode> docs, Path tmp) throws Exception {
    Path appYaml = Files.writeString(Files.createTempFile(tmp, "app", ".yaml"), env(docs).get("app.yaml"));
    return ConfigLoader.builder()
        .file(appYaml)
        .env(podEnvironment(docs))
        // The image's path, /app/models, is not here.
        .set("inference.model.path", "models/gapnet-shapes/model.onnx")
        .load();
  }

  /** The container's environment: the ConfigMap's variables (envFrom), then its own env list. */
  private static Map<String, String> podEnvironment(List<JsonNode> docs) throws Exception {
    Map<String, String> data = env(docs);
    Map<String, String> environment = new HashMap<>(data);
    environment.remove("app.yaml");
    gapstream(pod(docs)).getEnv().forEach(e -> environment.put(e.getName(), value(e, data)));
    return environment;
  }

  static Container gapstream(PodSpec pod) {
    return pod.getContainers().stream().filter(c -> c.getName().equals("gapstream")).findFirst()
        .orElseThrow(() -> new AssertionError("no container named gapstream"));
  }

  static PodSpec pod(List<JsonNode> docs) throws Exception {
    return StrictModel.bind(Manifests.only(docs, "Deployment"), Deployment.class).getSpec()
        .getTemplate().getSpec();
  }

  /**
   * A variable's value in the pod: its own, the ConfigMap's where it names a key of it, else a
   * stand-in for what the cluster gives (secrets, the CPU request).
   */
  private static String value(EnvVar e, Map<String, String> configMap) {
    if (e.getValue() != null) {
      return e.getValue();
    }
    var ref = e.getValueFrom().getConfigMapKeyRef();
    return ref != null ? configMap.get(ref.getKey()) : "2";
  }

  /** The env-style entries of the rendered gapstream ConfigMap. */
  static Map<String, String> env(List<JsonNode> docs) throws Exception {
    return StrictModel.bind(Manifests.only(docs, "ConfigMap"), ConfigMap.class).getData();
  }

  private static void assertProbe(HTTPGetAction get, String path) {
    assertThat(get.getPath()).isEqualTo(path);
    assertThat(get.getPort().getStrVal()).as("probe port").isEqualTo("http");
  }
}
