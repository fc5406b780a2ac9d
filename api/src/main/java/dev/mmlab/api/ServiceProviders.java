package dev.mmlab.api;

import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.TreeMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link java.util.ServiceLoader} discovery as SLF4J 2 does it, shared by strategies and drivers: a provider
 * that fails to load is reported and skipped, the others still load; two providers with one name are an error
 * naming both classes.
 */
public final class ServiceProviders {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceProviders.class);

    private ServiceProviders() {}

    /** Every provider {@code it} yields, skipping (and logging) those that fail to load. */
    public static <T> List<T> load(Iterator<T> it, String kind) {
        List<T> found = new ArrayList<>();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                // One line: a user can act on the class name and cause; the trace is for --debug.
                LOG.error("A {} provider failed to load and is skipped: {}{}", kind, e.getMessage(),
                        e.getCause() == null ? "" : ": " + e.getCause());
                LOG.debug("the provider's failure", e);
            }
        }
        return found;
    }

    /** This thread's context class loader, or this class's loader when the thread has none. */
    public static ClassLoader contextLoader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : ServiceProviders.class.getClassLoader();
    }

    /**
     * Where discovery through {@code loader} looks, for messages: "built in" (the class path) and then the jars
     * of each {@link URLClassLoader} on the way up from {@code loader} (how plugins are added).
     */
    public static List<String> searched(ClassLoader loader) {
        List<ClassLoader> chain = new ArrayList<>();
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            chain.add(0, l);
        }
        List<String> places = new ArrayList<>(List.of("built in"));
        for (ClassLoader l : chain) {
            if (l instanceof URLClassLoader urls) {
                for (URL url : urls.getURLs()) {
                    places.add(location(url));
                }
            }
        }
        return places;
    }

    private static String location(URL url) {
        try {
            return Path.of(url.toURI()).toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return url.toString();
        }
    }

    /**
     * {@code providers} sorted by name.
     *
     * @throws IllegalStateException when two share a name, naming both classes
     */
    public static <T> Map<String, T> byName(List<T> providers, Function<T, String> name, String kindPlural) {
        Map<String, T> byName = new TreeMap<>();
        for (T p : providers) {
            T other = byName.putIfAbsent(name.apply(p), p);
            if (other != null) {
                throw new IllegalStateException("two " + kindPlural + " are named '" + name.apply(p) + "': "
                        + other.getClass().getName() + " and " + p.getClass().getName()
                        + "; rename one or remove it from the class path");
            }
        }
        return byName;
    }
}
