package io.keyrelay.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * A YAML syntax error as one line: {@code … at line 3, column 4: mapping values are not allowed here}. SnakeYAML's own
 * message spans five lines (context, a copy of the line, a caret); an error on one line is what a terminal, a log
 * and systemd's journal show whole.
 */
final class YamlErrors {
    private YamlErrors() {}

    /** {@code " is not valid YAML at line 3, column 4: <problem>"}, for {@code FILE + describe(e)}. */
    static String describe(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException m && m.getProblemMark() != null) {
                Mark at = m.getProblemMark();
                String context = m.getContextMark() == null || m.getContext() == null ? ""
                        : " (" + m.getContext() + " at line " + (m.getContextMark().getLine() + 1) + ", column "
                                + (m.getContextMark().getColumn() + 1) + ")";
                return " is not valid YAML at line " + (at.getLine() + 1) + ", column " + (at.getColumn() + 1) + ": "
                        + oneLine(m.getProblem()) + context;
            }
        }
        JsonLocation at = e.getLocation();
        return " is not valid YAML" + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()) + ": "
                + oneLine(e.getOriginalMessage());
    }

    private static String oneLine(String s) {
        return s == null ? "?" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
