package dev.mmlab.bench.plugin;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.ServiceProviders;
import dev.mmlab.api.VmOpsProvider;
import dev.mmlab.bench.UsageException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The class loader over the plugin jars ({@link PluginPaths}), a child of the application class loader. The CLI
 * makes it the thread context class loader while a command runs, so every {@link java.util.ServiceLoader}
 * discovery (strategies, drivers) sees the plugins beside the built-in providers. It also knows which jar
 * declares which provider, for {@code mmlab list} and for the one-line report of a provider that cannot load.
 */
public final class PluginClassLoader extends URLClassLoader {
    /** The service interfaces a plugin may provide. */
    static final List<Class<?>> SERVICES = List.of(LockingStrategy.class, VmOpsProvider.class);

    static {
        registerAsParallelCapable();
    }

    private final List<Path> jars;
    /** Provider class name to the jar whose {@code META-INF/services} file declares it. */
    private final Map<String, Declared> declared;

    /** A provider class named in a jar's services file for {@code service}. */
    private record Declared(Path jar, Class<?> service) {}

    private PluginClassLoader(List<Path> jars, Map<String, Declared> declared, ClassLoader parent) {
        super("mmlab-plugins", urls(jars), parent);
        this.jars = List.copyOf(jars);
        this.declared = declared;
    }

    /**
     * A loader over {@code jars} whose declared providers have each been loaded and instantiated once.
     *
     * @throws UsageException "plugin JAR: provider CLASS cannot be loaded: CAUSE" for the first that fails, or
     *         naming a jar that cannot be read
     */
    public static PluginClassLoader open(List<Path> jars, ClassLoader parent) {
        Map<String, Declared> declared = new LinkedHashMap<>();
        for (Path jar : jars) {
            for (Class<?> service : SERVICES) {
                for (String provider : providersDeclared(jar, service)) {
                    declared.putIfAbsent(provider, new Declared(jar, service));
                }
            }
        }
        PluginClassLoader loader = new PluginClassLoader(jars, declared, parent);
        try {
            loader.checkProviders();
        } catch (UsageException e) {
            loader.closeQuietly();
            throw e;
        }
        return loader;
    }

    /** The jars, in the order searched. */
    public List<Path> jars() {
        return jars;
    }

    /** The jars that declare no strategy and no driver: likely a missing or misnamed services file. */
    public List<Path> jarsDeclaringNothing() {
        return jars.stream().filter(j -> declared.values().stream().noneMatch(d -> d.jar().equals(j))).toList();
    }

    /**
     * Where {@code provider} came from: the path of the plugin jar that declares it, or "built in" when the
     * thread's context class loader is no plugin loader or no plugin declares it.
     */
    public static String origin(Object provider) {
        if (ServiceProviders.contextLoader() instanceof PluginClassLoader plugins) {
            Declared d = plugins.declared.get(provider.getClass().getName());
            if (d != null) {
                return d.jar().toString();
            }
        }
        return "built in";
    }

    /** Loads and instantiates each declared provider, as ServiceLoader will, so a broken one fails up front. */
    private void checkProviders() {
        declared.forEach((name, d) -> {
            try {
                Class<?> type = Class.forName(name, true, this);
                if (!d.service().isAssignableFrom(type)) {
                    throw new UsageException(broken(d.jar(), name, "it does not implement " + d.service().getName()));
                }
                type.getConstructor().newInstance();
            } catch (InvocationTargetException e) {
                throw new UsageException(broken(d.jar(), name, String.valueOf(e.getCause())), e.getCause());
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                if (e instanceof UsageException u) {
                    throw u;
                }
                throw new UsageException(broken(d.jar(), name, cause(e)), e);
            }
        });
    }

    private static String cause(Throwable e) {
        if (e instanceof ClassNotFoundException) {
            return "no such class in the jar or on the class path (check the name in META-INF/services)";
        }
        if (e instanceof NoSuchMethodException) {
            return "it has no public no-argument constructor";
        }
        return e.toString();
    }

    private static String broken(Path jar, String provider, String cause) {
        return "plugin " + jar + ": provider " + provider + " cannot be loaded: " + cause;
    }

    /** The class names in {@code jar}'s {@code META-INF/services/SERVICE}, comments and blanks dropped. */
    private static List<String> providersDeclared(Path jar, Class<?> service) {
        try (JarFile file = new JarFile(jar.toFile())) {
            JarEntry entry = file.getJarEntry("META-INF/services/" + service.getName());
            if (entry == null) {
                return List.of();
            }
            List<String> names = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(file.getInputStream(entry), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    int hash = line.indexOf('#');
                    String name = (hash < 0 ? line : line.substring(0, hash)).strip();
                    if (!name.isEmpty()) {
                        names.add(name);
                    }
                }
            }
            return names;
        } catch (IOException e) {
            throw new UsageException("plugin " + jar + ": not a readable jar: " + e.getMessage(), e);
        }
    }

    private static URL[] urls(List<Path> jars) {
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = jars.get(i).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new UncheckedIOException(e);
            }
        }
        return urls;
    }

    /** Closes the jars, ignoring a failure: the run is over. */
    public void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            // Only open jar files are released; nothing to report.
        }
    }
}
