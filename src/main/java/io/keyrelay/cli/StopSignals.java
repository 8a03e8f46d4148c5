package io.keyrelay.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;

/**
 * Handlers for SIGTERM and SIGINT in place of the JVM's own, which begins its shutdown at once and ends the
 * process with 143 or 130 whatever the shutdown hooks did.
 *
 * <p>A handler runs before anything is shut down, so the relay can drain while every part — the embedded
 * database included, whose own shutdown hook would otherwise close it mid-drain — still works, and then leave with
 * {@link System#exit} and a code that says how the drain went. The JDK's only API for this is
 * {@code sun.misc.Signal} (module {@code jdk.unsupported}, exported to every class path application); it is reached
 * by reflection because javac flags any direct use of it, and {@code -Werror} rightly turns that into an error.
 * JLine, a well-kept terminal library, reaches it the same way.
 */
final class StopSignals {
    private StopSignals() {}

    /**
     * Runs {@code onStop} (on a thread of the JVM's) when SIGTERM or SIGINT arrives. Returns false if this JVM has
     * no {@code sun.misc.Signal}; the default behaviour then stays.
     */
    static boolean install(Runnable onStop) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            InvocationHandler calls = (proxy, method, args) -> switch (method.getName()) {
                case "handle" -> {
                    onStop.run();
                    yield null;
                }
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> "keyrelay stop handler";
            };
            Object handler = Proxy.newProxyInstance(StopSignals.class.getClassLoader(), new Class<?>[] {handlerType},
                    calls);
            Method handle = signal.getMethod("handle", signal, handlerType);
            for (String name : List.of("TERM", "INT")) {
                handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }
}
