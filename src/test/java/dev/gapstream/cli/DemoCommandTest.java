package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.RecordComponent;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What {@code demo --help} promises of the summary line. */
class DemoCommandTest {

  /**
   * The help lists the summary's fields, and so must list each: {@code duplicates} was left out of
   * it, though the line carries it and the README's example shows it.
   */
  @Test
  void theHelpNamesEverySummaryField() {
    String help = new CommandLine(new DemoCommand()).getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");

    for (RecordComponent field : Demo.Summary.class.getRecordComponents()) {
      assertThat(help).as("demo --help names %s", field.getName()).contains(field.getName());
    }
  }
}
