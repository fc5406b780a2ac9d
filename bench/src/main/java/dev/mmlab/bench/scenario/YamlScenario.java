package dev.mmlab.bench.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.bench.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A user scenario read from YAML. {@link #SCHEMA} is the documentation {@code list} prints;
 * {@code scenarios/example.yaml} in the jar is a worked example. Thread counts and device latencies become
 * parameters ({@code --set ROLE=N}, {@code --set DEVICE.latency=3ms}).
 */
public final class YamlScenario extends BaseScenario {
    /** The schema, as {@code mmlab list} prints it. */
    public static final String SCHEMA = String.join("\n",
            "name: NAME                  # required",
            "origin: TEXT                # one line",
            "disjoint: false             # true only if no two threads share a VMA, neighbour or page table (allows unsafe-nolock)",
            "devices:                    # optional: block devices",
            "  DEVICE: {latency: 2ms}    # 2ms | uniform:1ms..5ms | exp:3ms",
            "files:                      # optional: files on those devices (page cache starts cold)",
            "  FILE: {device: DEVICE, size: 64m}",
            "background: {vmas: 0}       # optional: one-page VMAs mapped before the run",
            "roles:                      # required: threads doing one operation, or a weighted mix",
            "  - name: ROLE",
            "    threads: 1",
            "    op: fault               # or ops: [{op: fault, weight: 3, region: 2m}, {op: proc-read, weight: 1}]",
            "    region: 2m              # fault, map, remap, unmap-big, spawn, page-fault",
            "    file: FILE              # cold-read, gup",
            "    pages: 4                # gup: pages per call; spawn: pages touched",
            "ops: fault (ROLE/fault), map (ROLE/iteration), cold-read (ROLE/fault), gup (ROLE/call), proc-read (ROLE/read),",
            "     remap (ROLE/mmap, ROLE/mprotect, ROLE/munmap), unmap-big (ROLE/munmap), spawn (ROLE/iteration), page-fault (ROLE/page)");

    private static final List<String> OPS = List.of("fault", "map", "cold-read", "gup", "proc-read", "remap", "unmap-big",
            "spawn", "page-fault");

    private final String source;
    private final boolean disjoint;
    private final Map<String, String> devices;
    private final Map<String, JsonNode> files;
    private final int backgroundVmas;
    private final List<JsonNode> roles;

    private YamlScenario(String source, String name, String origin, boolean disjoint, Map<String, String> devices,
            Map<String, JsonNode> files, int backgroundVmas, List<JsonNode> roles, List<ParamDef> params) {
        super(name, origin, null, params);
        this.source = source;
        this.disjoint = disjoint;
        this.devices = devices;
        this.files = files;
        this.backgroundVmas = backgroundVmas;
        this.roles = roles;
    }

    /**
     * Reads and checks a scenario file.
     *
     * @throws UsageException when the file cannot be read or does not follow {@link #SCHEMA}, saying where
     */
    public static YamlScenario load(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new UsageException("cannot read scenario file " + path + ": " + e.getMessage(), e);
        }
        return parse(path.toString(), text);
    }

    /** Parses scenario YAML {@code text}; {@code source} names it in errors. */
    public static YamlScenario parse(String source, String text) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(text);
        } catch (IOException e) {
            throw new UsageException(source + ": not valid YAML (" + firstLine(e.getMessage()) + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new UsageException(source + ": expected a mapping with name and roles; see 'mmlab list' for the schema");
        }
        String name = text(source, root, "name", null);
        String origin = text(source, root, "origin", "user scenario " + source);
        boolean disjoint = root.path("disjoint").asBoolean(false);
        List<ParamDef> params = new ArrayList<>();
        Map<String, String> devices = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.path("devices").properties()) {
            String latency = text(source + " device " + e.getKey(), e.getValue(), "latency", "0ms");
            devices.put(e.getKey(), latency);
            params.add(ParamDef.latency(e.getKey() + ".latency", latency, "read latency of device " + e.getKey()));
        }
        Map<String, JsonNode> files = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.path("files").properties()) {
            String device = text(source + " file " + e.getKey(), e.getValue(), "device", null);
            if (!devices.containsKey(device)) {
                throw new UsageException(source + ": file " + e.getKey() + " names device '" + device
                        + "', which is not under devices: " + devices.keySet());
            }
            size(source + " file " + e.getKey(), e.getValue(), "size", "64m");
            files.put(e.getKey(), e.getValue());
        }
        int background = root.path("background").path("vmas").asInt(0);
        JsonNode roleList = root.path("roles");
        if (!roleList.isArray() || roleList.isEmpty()) {
            throw new UsageException(source + ": 'roles' must be a non-empty list; see 'mmlab list' for the schema");
        }
        List<JsonNode> roles = new ArrayList<>();
        for (JsonNode role : roleList) {
            String roleName = text(source + " role", role, "name", null);
            String where = source + " role " + roleName;
            for (JsonNode op : opsOf(where, role)) {
                String kind = text(where, op, "op", null);
                if (!OPS.contains(kind)) {
                    throw new UsageException(where + ": unknown op '" + kind + "'; valid: " + String.join(", ", OPS));
                }
                if ((kind.equals("cold-read") || kind.equals("gup")) && !files.containsKey(text(where, op, "file", null))) {
                    throw new UsageException(where + ": op " + kind + " needs 'file' naming one of " + files.keySet());
                }
                size(where, op, "region", "2m");
            }
            params.add(ParamDef.integer(roleName, role.path("threads").asInt(1), "threads in role " + roleName));
            roles.add(role);
        }
        return new YamlScenario(source, name, origin, disjoint, devices, files, background, roles, params);
    }

    private static List<JsonNode> opsOf(String where, JsonNode role) {
        List<JsonNode> ops = new ArrayList<>();
        if (role.has("ops")) {
            role.get("ops").forEach(op -> ops.add(op));
        } else {
            ops.add(role);
        }
        if (ops.isEmpty()) {
            throw new UsageException(where + ": needs 'op' or a non-empty 'ops' list");
        }
        return ops;
    }

    private static String text(String where, JsonNode node, String field, String def) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (def == null) {
                throw new UsageException(where + ": missing '" + field + "'; see 'mmlab list' for the schema");
            }
            return def;
        }
        return v.asText();
    }

    private static long size(String where, JsonNode node, String field, String def) {
        String v = text(where, node, field, def);
        try {
            return ParamDef.parseSize(v);
        } catch (RuntimeException e) {
            throw new UsageException(where + ": bad " + field + " '" + v + "'; use e.g. 4096, 64k, 2m, 1g");
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** Where the scenario was read from. */
    public String source() {
        return source;
    }

    @Override
    public boolean disjoint(ScenarioParams params) {
        return disjoint;
    }

    @Override
    protected List<Role> roles(ScenarioContext ctx) {
        ScenarioParams p = ctx.params();
        Map<String, BackingFile> made = new LinkedHashMap<>();
        files.forEach((fname, spec) -> made.put(fname, ctx.file(fname, size(source, spec, "size", "64m"),
                p.latency(spec.get("device").asText() + ".latency"))));
        if (backgroundVmas > 0) {
            Workloads.backgroundVmas(ctx, backgroundVmas);
        }
        List<Role> out = new ArrayList<>();
        for (JsonNode role : roles) {
            String roleName = role.get("name").asText();
            List<JsonNode> ops = opsOf(roleName, role);
            List<Role.WorkerFactory> factories = new ArrayList<>();
            int[] weights = new int[ops.size()];
            for (int i = 0; i < ops.size(); i++) {
                factories.add(factory(ctx, ops.get(i), made));
                weights[i] = Math.max(1, ops.get(i).path("weight").asInt(1));
            }
            out.add(new Role(roleName, p.integer(roleName), index -> mix(ctx.random(), factories, weights, index)));
        }
        return out;
    }

    private Role.WorkerFactory factory(ScenarioContext ctx, JsonNode op, Map<String, BackingFile> made) {
        long region = size(source, op, "region", "2m");
        int pages = op.path("pages").asInt(4);
        switch (op.get("op").asText().toLowerCase(Locale.ROOT)) {
            case "fault":
                return Workloads.faultLoop(ctx, region, !disjoint);
            case "map":
                return Workloads.mapperLoop(ctx, region, !disjoint);
            case "cold-read":
                return Workloads.coldFileReader(ctx, made.get(op.get("file").asText()));
            case "gup":
                return Workloads.gupLoop(ctx, made.get(op.get("file").asText()), pages);
            case "proc-read":
                return Workloads.procScanner(ctx);
            case "remap":
                return Workloads.remapper(ctx, region);
            case "unmap-big":
                return Workloads.bigUnmapper(ctx, region);
            case "spawn":
                return Workloads.spawner(ctx, region, pages);
            case "page-fault":
            default:
                return Workloads.pageFaultLoop(ctx, region, Workloads.Backing.ANON);
        }
    }

    private static Worker mix(SplittableRandom random, List<Role.WorkerFactory> factories, int[] weights, int index) {
        if (factories.size() == 1) {
            return factories.get(0).create(index);
        }
        List<Worker> workers = new ArrayList<>();
        int total = 0;
        for (int i = 0; i < factories.size(); i++) {
            workers.add(factories.get(i).create(index));
            total += weights[i];
        }
        int sum = total;
        return rec -> {
            int pick = random.nextInt(sum);
            for (int i = 0; i < weights.length; i++) {
                pick -= weights[i];
                if (pick < 0) {
                    workers.get(i).step(rec);
                    return;
                }
            }
        };
    }
}
