package dev.mmlab.bench.replay;

import com.google.common.collect.ImmutableList;
import dev.mmlab.bench.trace.CommRecord;
import dev.mmlab.bench.trace.ExitRecord;
import dev.mmlab.bench.trace.ForkRecord;
import dev.mmlab.bench.trace.Mmap2Record;
import dev.mmlab.bench.trace.MmapLockEvent;
import dev.mmlab.bench.trace.PageFault;
import dev.mmlab.bench.trace.Syscall;
import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one process of a trace does, cut into the steps a replay runs, in file order or, when the trace has the
 * mmap_lock events, in the kernel's lock order.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Nothing needs protecting: a script is immutable once built, so the threads of
 *       a threaded replay may read it at once.</li>
 *   <li><b>Lock order.</b> none: takes no lock.</li>
 *   <li><b>MMAP2 records.</b> A {@code PERF_RECORD_MMAP2} printed while one of the same thread's traced syscalls
 *       is in flight (after its enter line, before its exit line) is that syscall's report of the VMA it made or
 *       changed: it is attached to the syscall (an mmap takes its file's path, device and inode from it) and not
 *       replayed on its own. Any other MMAP2 record is a mapping the kernel made outside the traced syscalls
 *       (exec: the program, the loader, {@code [stack]}, {@code [vdso]}, the bss) and is replayed as an
 *       {@link ExecMapping} at its address.</li>
 *   <li><b>Images.</b> An exec replaces the address space, so the steps are cut into {@link Image}s, each
 *       replayed on a fresh address space. An image starts at a {@code PERF_RECORD_COMM exec} record or, in
 *       traces recorded without task records, at a {@code [stack]} MMAP2 outside a syscall (the first mapping
 *       exec makes), whenever the current image already has steps.</li>
 *   <li><b>Threads and forks.</b> A thread ({@code PERF_RECORD_FORK} with pid == ppid) is not a step: a thread
 *       is simply the set of its events. A fork of a new process <em>by this process</em> is a {@link ForkStep}
 *       at the fork record's place (the fork record is grouped under the child's pid in {@link Trace}, so the
 *       whole trace is scanned for it), run by the forking thread; the child's copy lives until the child's
 *       exec or the exit of its last thread, where a {@link ChildExitStep} tears it down. A child still alive
 *       when this process execs is left to the end of the image.</li>
 *   <li><b>Fork prefixes.</b> A process whose life starts with a fork record from a parent that has steps
 *       before that fork starts its first image as the parent's fork: {@link Image#prefix()} holds the parent's
 *       steps up to the fork (with the parent's own prefix first, when the parent was forked too), ending with
 *       a {@link ForkStep} whose {@link ForkStep#follow()} says the replay continues in the child. If the child
 *       execs before doing anything, that image would be empty and is left out (the exec starts fresh
 *       anyway).</li>
 *   <li><b>Lock order.</b> File order is sys_enter order, and a syscall that entered first need not have run
 *       first: it may have queued for the mmap_lock while another thread's syscall got it. When the trace has
 *       {@link MmapLockEvent}s, a successful {@code mmap_lock_acquire_returned} printed while one of the same
 *       thread's traced syscalls is in flight is that syscall's grant (the first one, if it took the lock several
 *       times), and each image's steps are ordered by their grant's line instead of their enter line; a step
 *       without a grant (a fault, a syscall that took no mmap_lock, an exec mapping) keeps its own line. Each
 *       thread keeps its own order (a step is never put before its thread's previous one), so only the
 *       interleaving of the threads changes. A trace without the events keeps file order exactly. Lines, not
 *       timestamps, decide: perf prints microseconds, but sorts by nanoseconds before printing.</li>
 *   <li><b>Exec's lock events.</b> From a {@code PERF_RECORD_COMM exec} (or, without task records, the
 *       {@code [stack]} MMAP2 that starts an image) until the thread's first user-mode event (a traced syscall
 *       or a user page fault), the thread is still inside execve, which is not traced: its mmap_lock events are
 *       the exec's ({@link Image#execLockEvents()}), not those of the kernel faults in between (binfmt_elf
 *       clearing the bss, {@code copy_to_user} of the auxv), each of which owns only its own hold, up to its
 *       first release.</li>
 * </ul>
 */
public final class ReplayScript {
    /** Ancestors followed at most when building a fork prefix (a guard against pid reuse cycles). */
    private static final int MAX_FORK_DEPTH = 32;

    /** One replayed event; {@link #event()} is the trace event it comes from (for line numbers and times). */
    public sealed interface Step permits SyscallStep, ExecMapping, FaultStep, ForkStep, ChildExitStep {
        TraceEvent event();

        /** The traced thread that runs this step (in the threaded modes, its Java thread runs it). */
        default int tid() {
            return event().tid();
        }

        /** The kernel's mmap_lock events this step is credited with (syscalls and faults); empty for others. */
        default List<MmapLockEvent> lockEvents() {
            return List.of();
        }
    }

    /**
     * A traced syscall with the MMAP2 records and the mmap_lock events printed while it ran.
     *
     * @param records the VMAs the kernel reported for it, in file order; usually empty or one
     * @param lockEvents the thread's mmap_lock events between its enter and exit lines, in file order; empty when
     *     the trace has none for it (no mmap_lock events recorded, or the syscall took no mmap_lock)
     */
    public record SyscallStep(Syscall event, List<Mmap2Record> records, List<MmapLockEvent> lockEvents)
            implements Step {
        public SyscallStep {
            records = List.copyOf(records);
            lockEvents = List.copyOf(lockEvents);
        }

        /** A syscall without recorded mmap_lock events. */
        public SyscallStep(Syscall event, List<Mmap2Record> records) {
            this(event, records, List.of());
        }

        /**
         * The line of the {@code mmap_lock_acquire_returned} that first let it in, or 0 when it has none (it took
         * the lock several times: the first grant orders it).
         */
        public int grantLineNo() {
            return lockEvents.stream().filter(MmapLockEvent::granted).mapToInt(MmapLockEvent::lineNo).findFirst()
                    .orElse(0);
        }

        /** Whether the trace says when the kernel granted it the mmap_lock. */
        public boolean lockOrdered() {
            return grantLineNo() > 0;
        }
    }

    /** A mapping the kernel made outside the traced syscalls (exec, ELF loader, vdso). */
    public record ExecMapping(Mmap2Record event) implements Step {}

    /**
     * A page fault, from user mode or from the kernel touching user memory.
     *
     * @param lockEvents the mmap_lock events its thread printed after the fault and before its next other event,
     *     outside a traced syscall: the fault handler's fallback from the per-VMA lock to the mmap_lock
     */
    public record FaultStep(PageFault event, List<MmapLockEvent> lockEvents) implements Step {
        public FaultStep {
            lockEvents = List.copyOf(lockEvents);
        }

        /** A fault without recorded mmap_lock events. */
        public FaultStep(PageFault event) {
            this(event, List.of());
        }
    }

    /**
     * This process forked a new process ({@code event.pid()}): copy the address space here. Run by the forking
     * thread ({@code event.ptid()}).
     *
     * @param follow the replay continues in the child (the last step of an {@link Image#prefix()}); otherwise
     *     the child's copy lives until its {@link ChildExitStep} or the end of the image
     */
    public record ForkStep(ForkRecord event, boolean follow) implements Step {
        @Override
        public int tid() {
            return event.ptid();
        }

        /** The forked process. */
        public int childPid() {
            return event.pid();
        }
    }

    /**
     * A child this process forked stopped using the copy (its last thread exited, or it exec'ed): tear the copy
     * down here. Run by the thread that forked the child, so it stays after the fork in every timing mode.
     *
     * @param event the child's exit or exec record
     * @param childPid the child
     * @param parentTid the thread of this process that forked the child
     */
    public record ChildExitStep(TraceEvent event, int childPid, int parentTid) implements Step {
        @Override
        public int tid() {
            return parentTid;
        }
    }

    /**
     * One address space's life: the steps between two execs.
     *
     * @param prefix empty for an address space that starts empty; for one that starts as a fork of a traced
     *     parent, the ancestors' steps to replay serially before it, ending with the {@link ForkStep} (follow)
     *     that creates it. Not this process's events: they do not count in its fidelity.
     * @param steps this process's steps, in file order, or in lock order when the trace has the mmap_lock
     *     events (see the design notes)
     * @param tids the threads that run {@code steps}
     * @param execLockEvents the mmap_lock events the kernel's exec printed while making this address space (see
     *     the design notes), in file order; not replayed (the model's {@link ExecMapping}s take their own locks)
     */
    public record Image(List<Step> prefix, List<Step> steps, Set<Integer> tids, List<MmapLockEvent> execLockEvents) {
        public Image {
            prefix = List.copyOf(prefix);
            steps = List.copyOf(steps);
            tids = Set.copyOf(tids);
            execLockEvents = List.copyOf(execLockEvents);
            if (!prefix.isEmpty() && !(prefix.get(prefix.size() - 1) instanceof ForkStep f && f.follow())) {
                throw new IllegalArgumentException("a fork prefix must end with the fork that creates the image");
            }
        }

        /** An image that starts with an empty address space. */
        public Image(List<Step> steps, Set<Integer> tids) {
            this(List.of(), steps, tids, List.of());
        }

        /** An image without exec lock events. */
        public Image(List<Step> prefix, List<Step> steps, Set<Integer> tids) {
            this(prefix, steps, tids, List.of());
        }

        /** Whether this address space starts as a fork of its parent's (a non-empty {@link #prefix()}). */
        public boolean forked() {
            return !prefix.isEmpty();
        }

        /** The fork record that created this address space, or null for an image that starts empty. */
        public ForkRecord forkRecord() {
            return prefix.isEmpty() ? null : ((ForkStep) prefix.get(prefix.size() - 1)).event();
        }
    }

    private final String source;
    private final int pid;
    private final ImmutableList<Image> images;
    private final int stepCount;

    private ReplayScript(String source, int pid, List<Image> images) {
        this.source = source;
        this.pid = pid;
        this.images = ImmutableList.copyOf(images);
        this.stepCount = images.stream().mapToInt(i -> i.steps().size()).sum();
    }

    /**
     * The script of process {@code pid} of {@code trace}.
     *
     * @throws IllegalArgumentException if the trace has no events of {@code pid}, naming the pids it has
     */
    public static ReplayScript of(Trace trace, int pid) {
        if (trace.eventsOf(pid).isEmpty()) {
            throw new IllegalArgumentException("trace " + trace.source() + " has no events of pid " + pid
                    + "; its pids are " + trace.pids());
        }
        return new ReplayScript(trace.source(), pid, imagesOf(trace, pid, new HashSet<>()));
    }

    /** The images of {@code pid}; {@code ancestors} are the pids whose scripts are being built (cycle guard). */
    private static List<Image> imagesOf(Trace trace, int pid, Set<Integer> ancestors) {
        List<Image> images = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        Set<Integer> tids = new LinkedHashSet<>();
        Map<Integer, Integer> openSyscallByTid = new HashMap<>(); // tid -> index in steps
        Map<Integer, Integer> openFaultByTid = new HashMap<>(); // tid -> index in steps of its latest fault
        Map<Integer, LiveChild> children = new HashMap<>();
        Set<Integer> execSetupTids = new HashSet<>(); // threads between an exec and their return to user mode
        List<MmapLockEvent> execLocks = new ArrayList<>();
        // Whether images.get(0), once made, is the address space the process was born with (not one after exec).
        boolean firstImageIsBirth = true;
        for (TraceEvent e : trace.events()) {
            if (e.pid() != pid) {
                childEvent(e, pid, steps, tids, children);
                continue;
            }
            if (e instanceof CommRecord c) {
                if (c.exec()) {
                    if (!steps.isEmpty()) {
                        images.add(new Image(List.of(), inLockOrder(steps), tids, execLocks));
                        steps = new ArrayList<>();
                        tids = new LinkedHashSet<>();
                        execLocks = new ArrayList<>();
                        openSyscallByTid.clear();
                        openFaultByTid.clear();
                        children.clear();
                    } else if (images.isEmpty()) {
                        firstImageIsBirth = false;
                    }
                    execSetupTids.add(c.tid());
                }
            } else if (e instanceof Syscall s) {
                execSetupTids.remove(s.tid());
                openSyscallByTid.put(s.tid(), steps.size());
                steps.add(new SyscallStep(s, List.of()));
                tids.add(s.tid());
            } else if (e instanceof Mmap2Record r) {
                Integer open = openSyscallByTid.get(r.tid());
                SyscallStep owner = open == null ? null : (SyscallStep) steps.get(open);
                if (owner != null && r.lineNo() < owner.event().exitLineNo()) {
                    List<Mmap2Record> records = new ArrayList<>(owner.records());
                    records.add(r);
                    steps.set(open, new SyscallStep(owner.event(), records, owner.lockEvents()));
                    continue;
                }
                if ("[stack]".equals(r.path())) {
                    if (!steps.isEmpty()) {
                        images.add(new Image(List.of(), inLockOrder(steps), tids, execLocks));
                        steps = new ArrayList<>();
                        tids = new LinkedHashSet<>();
                        execLocks = new ArrayList<>();
                        openSyscallByTid.clear();
                        openFaultByTid.clear();
                        children.clear();
                    } else if (images.isEmpty()) {
                        firstImageIsBirth = false;
                    }
                    execSetupTids.add(r.tid());
                }
                steps.add(new ExecMapping(r));
                tids.add(r.tid());
            } else if (e instanceof PageFault f) {
                if (f.user()) {
                    execSetupTids.remove(f.tid());
                }
                openFaultByTid.put(f.tid(), steps.size());
                steps.add(new FaultStep(f));
                tids.add(f.tid());
            } else if (e instanceof MmapLockEvent lock) {
                attachLockEvent(lock, steps, openSyscallByTid, openFaultByTid,
                        execSetupTids.contains(lock.tid()) ? execLocks : null);
            }
            if (!(e instanceof PageFault) && !(e instanceof MmapLockEvent)) {
                // Any other event of the thread means its fault handler has returned.
                openFaultByTid.remove(e.tid());
            }
        }
        if (!steps.isEmpty() || images.isEmpty()) {
            images.add(new Image(List.of(), inLockOrder(steps), tids, execLocks));
        }
        if (firstImageIsBirth && !images.get(0).steps().isEmpty()) {
            List<Step> prefix = forkPrefix(trace, pid, ancestors);
            if (!prefix.isEmpty()) {
                Image birth = images.get(0);
                images.set(0, new Image(prefix, birth.steps(), birth.tids(), birth.execLockEvents()));
            }
        }
        return images;
    }

    /**
     * Gives {@code lock} to the step its thread was running: the traced syscall in flight (enter line before it,
     * exit line after), else the fault it took last with no other event of the thread in between. A lock event
     * of neither (an untraced syscall such as exit, or another process's mm) is not kept. {@code execLocks} is
     * non-null while the thread is in its exec's setup: there a fault owns only its own hold (up to its first
     * release), and every other event is the exec's and goes to {@code execLocks}.
     */
    private static void attachLockEvent(MmapLockEvent lock, List<Step> steps, Map<Integer, Integer> openSyscallByTid,
            Map<Integer, Integer> openFaultByTid, List<MmapLockEvent> execLocks) {
        Integer open = openSyscallByTid.get(lock.tid());
        if (open != null && steps.get(open) instanceof SyscallStep owner && lock.lineNo() < owner.event().exitLineNo()) {
            steps.set(open, new SyscallStep(owner.event(), owner.records(), append(owner.lockEvents(), lock)));
            return;
        }
        Integer fault = openFaultByTid.get(lock.tid());
        if (fault != null && steps.get(fault) instanceof FaultStep f) {
            steps.set(fault, new FaultStep(f.event(), append(f.lockEvents(), lock)));
            if (execLocks != null && lock.kind() == MmapLockEvent.Kind.RELEASED) {
                openFaultByTid.remove(lock.tid());
            }
        } else if (execLocks != null) {
            execLocks.add(lock);
        }
    }

    private static List<MmapLockEvent> append(List<MmapLockEvent> events, MmapLockEvent event) {
        List<MmapLockEvent> out = new ArrayList<>(events);
        out.add(event);
        return out;
    }

    /**
     * {@code steps} (in file order) ordered by each syscall's mmap_lock grant, every other step by its own line,
     * each thread keeping its own order; {@code steps} itself when no syscall has a grant.
     */
    private static List<Step> inLockOrder(List<Step> steps) {
        if (steps.stream().noneMatch(s -> s instanceof SyscallStep sc && sc.lockOrdered())) {
            return steps;
        }
        long[] keys = new long[steps.size()];
        Map<Integer, Long> lastKeyByTid = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            long line = step instanceof SyscallStep sc && sc.lockOrdered() ? sc.grantLineNo() : step.event().lineNo();
            // Never ahead of the thread's previous step: a fault inside a syscall, before its grant, stays after it.
            long key = Math.max(line, lastKeyByTid.getOrDefault(step.tid(), Long.MIN_VALUE));
            lastKeyByTid.put(step.tid(), key);
            keys[i] = key;
        }
        List<Integer> order = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            order.add(i);
        }
        // Stable on ties (a step held behind its thread's previous one): file order decides.
        order.sort(Comparator.comparingLong(i -> keys[i]));
        List<Step> ordered = new ArrayList<>(steps.size());
        for (int i : order) {
            ordered.add(steps.get(i));
        }
        return ordered;
    }

    /** A child of {@code pid} that is still using its copy of the address space. */
    private static final class LiveChild {
        final int parentTid;
        final Set<Integer> tids = new HashSet<>();

        LiveChild(int parentTid, int tid) {
            this.parentTid = parentTid;
            tids.add(tid);
        }
    }

    /** An event of another process: a fork by {@code pid} of a new process, or the end of such a child's copy. */
    private static void childEvent(TraceEvent e, int pid, List<Step> steps, Set<Integer> tids,
            Map<Integer, LiveChild> children) {
        if (e instanceof ForkRecord f && !f.isThread() && f.ppid() == pid) {
            steps.add(new ForkStep(f, false));
            tids.add(f.ptid());
            children.put(f.pid(), new LiveChild(f.ptid(), f.tid()));
            return;
        }
        LiveChild child = children.get(e.pid());
        if (child == null) {
            return;
        }
        boolean gone = false;
        if (e instanceof ForkRecord f && f.isThread()) {
            child.tids.add(f.tid());
        } else if (e instanceof ExitRecord x) {
            child.tids.remove(x.tid());
            gone = child.tids.isEmpty();
        } else if (e instanceof CommRecord c && c.exec()) {
            gone = true;
        }
        if (gone) {
            children.remove(e.pid());
            steps.add(new ChildExitStep(e, e.pid(), child.parentTid));
        }
    }

    /**
     * The steps that build {@code pid}'s first address space as its parent's fork: the parent's image up to the
     * fork (with its own prefix first), then the fork, followed. Empty when {@code pid} does not start with a
     * fork record of a new process, or the parent has no steps before the fork in that image.
     */
    private static List<Step> forkPrefix(Trace trace, int pid, Set<Integer> ancestors) {
        List<TraceEvent> own = trace.eventsOf(pid);
        if (own.isEmpty() || !(own.get(0) instanceof ForkRecord birth) || birth.isThread()
                || ancestors.contains(birth.ppid()) || ancestors.size() >= MAX_FORK_DEPTH
                || trace.eventsOf(birth.ppid()).isEmpty()) {
            return List.of();
        }
        ancestors.add(pid);
        List<Image> parentImages;
        try {
            parentImages = imagesOf(trace, birth.ppid(), ancestors);
        } finally {
            ancestors.remove(pid);
        }
        for (Image image : parentImages) {
            List<Step> steps = image.steps();
            for (int i = 0; i < steps.size(); i++) {
                if (steps.get(i) instanceof ForkStep f && f.event().lineNo() == birth.lineNo()) {
                    if (i == 0 && image.prefix().isEmpty()) {
                        return List.of();
                    }
                    List<Step> prefix = new ArrayList<>(image.prefix());
                    prefix.addAll(steps.subList(0, i));
                    prefix.add(new ForkStep(birth, true));
                    return prefix;
                }
            }
        }
        return List.of();
    }

    public String source() {
        return source;
    }

    public int pid() {
        return pid;
    }

    /** The address spaces the process went through, in order; the last one is the one a maps dump shows. */
    public List<Image> images() {
        return images;
    }

    /** Number of steps in all images. */
    public int stepCount() {
        return stepCount;
    }
}
