package dev.gapstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * Picocli formats every description with {@link String#format}: a bare {@code %} ("5% of the CPU")
 * makes it print a warning above the help and show the text unformatted. The descriptions are read
 * from the annotations, as written: the model's {@code description()} has them formatted already.
 */
class HelpTextTest {

  @Test
  void everyDescriptionIsAValidFormatString() {
    List<String> checked = new ArrayList<>();
    for (CommandLine cli : commandsUnder(Main.commandLine())) {
      CommandSpec spec = cli.getCommandSpec();
      Command command = spec.userObject().getClass().getAnnotation(Command.class);
      if (command != null) {
        for (String line : command.description()) {
          assertFormats(spec.qualifiedName() + " description", line);
          checked.add(spec.qualifiedName());
        }
      }
      for (OptionSpec option : spec.options()) {
        if (option.userObject() instanceof AnnotatedElement element
            && element.getAnnotation(Option.class) != null) {
          for (String line : element.getAnnotation(Option.class).description()) {
            assertFormats(spec.qualifiedName() + " " + option.longestName(), line);
            checked.add(option.longestName());
          }
        }
      }
    }
    assertThat(checked).contains("gapstream bench", "--jit-settle", "--compare");
  }

  private static List<CommandLine> commandsUnder(CommandLine root) {
    List<CommandLine> all = new ArrayList<>(List.of(root));
    root.getSubcommands().values().forEach(sub -> all.addAll(commandsUnder(sub)));
    return all;
  }

  private static void assertFormats(String where, String description) {
    assertThatCode(() -> String.format(Locale.ROOT, description))
        .as("%s: %s", where, description)
        .doesNotThrowAnyException();
  }
}
