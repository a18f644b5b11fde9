package dev.gapstream.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ThrowableProxy;
import org.junit.jupiter.api.Test;

class BlockedThreadGuardTest {

  private static ThrowableProxy stack(StackTraceElement... frames) {
    Exception e = new Exception("Thread blocked");
    e.setStackTrace(frames);
    return new ThrowableProxy(e);
  }

  private static StackTraceElement at(String cls, String method) {
    return new StackTraceElement(cls, method, null, 1);
  }

  @Test
  void ourCodeOnTheStackIsABlockWhateverIsAboveIt() {
    assertThat(BlockedThreadGuard.ourCodeBlocked(stack(
            at("java.lang.Thread", "sleep"),
            at("javax.imageio.ImageIO", "read"),
            at("dev.gapstream.pipeline.PipelineVerticle", "onRecord"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isTrue();
    assertThat(BlockedThreadGuard.ourCodeBlocked(null)).as("no stack to judge by").isTrue();
  }

  @Test
  void aLoopIdleInItsSelectorOrFlushingASocketIsNotOurBlock() {
    assertThat(BlockedThreadGuard.ourCodeBlocked(stack(
            at("sun.nio.ch.EPoll", "wait"),
            at("io.netty.channel.nio.SelectedSelectionKeySetSelector", "select"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isFalse();
    assertThat(BlockedThreadGuard.ourCodeBlocked(stack(
            at("sun.nio.ch.FileDispatcherImpl", "writev0"),
            at("io.netty.channel.socket.nio.NioSocketChannel", "doWrite"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isFalse();
  }
}
