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
  void aLoopWaitingInItsSelectorIsNotBlocked() {
    assertThat(BlockedThreadGuard.idleInSelector(stack(
            at("sun.nio.ch.EPoll", "wait"),
            at("sun.nio.ch.SelectorImpl", "select"),
            at("io.netty.channel.nio.SelectedSelectionKeySetSelector", "select"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isTrue();
  }

  @Test
  void codeOnTheStackIsABlockEvenUnderJdkFrames() {
    assertThat(BlockedThreadGuard.idleInSelector(stack(
            at("java.lang.Thread", "sleep"),
            at("dev.gapstream.pipeline.PipelineVerticle", "onRecord"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isFalse();
    assertThat(BlockedThreadGuard.idleInSelector(stack(
            at("io.netty.buffer.UnpooledDirectByteBuf", "allocateDirectBuffer"),
            at("io.netty.channel.nio.NioIoHandler", "select"))))
        .as("netty working, not waiting")
        .isFalse();
    assertThat(BlockedThreadGuard.idleInSelector(null)).isFalse();
  }
}
