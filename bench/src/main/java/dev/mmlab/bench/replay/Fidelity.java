package dev.mmlab.bench.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * How closely a replay followed the trace: events replayed, syscalls whose result differs from the traced
 * one, user faults whose outcome differs (a SIGSEGV or SIGBUS where the program went on), with the first few
 * differences described. Thread-safe: the threads of an {@code asap} replay add to one instance.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Every count and both lists of kept differences are guarded by this object's
 *       monitor: each recording and each read is one synchronized method, so a reader sees the counts of
 *       whole events and the lists are copied before they leave.</li>
 *   <li><b>Lock order.</b> the monitor is a leaf: held for a few increments, never while replaying. A replay
 *       thread records after its engine call returned, holding no lock of the address space.</li>
 * </ul>
 */
public final class Fidelity {
    /** How many differences are kept with their description. */
    public static final int KEPT_DIFFERENCES = 10;

    /**
     * One difference.
     *
     * @param lineNo the trace line of the event (for a syscall, its enter line)
     * @param event the event as the trace has it, e.g. {@code mprotect(start=0x7f.., len=0x2000, prot=0x1)}
     * @param expected what the kernel returned or how the fault ended
     * @param got what the replay returned
     */
    public record Difference(int lineNo, String event, String expected, String got) {
        @Override
        public String toString() {
            return "line " + lineNo + ": " + event + ": expected " + expected + ", got " + got;
        }
    }

    private long events;
    private long syscalls;
    private long syscallDiffs;
    private long faults;
    private long faultDiffs;
    private long kernelFaults;
    private long forks;
    private final List<Difference> firstSyscalls = new ArrayList<>();
    private final List<Difference> firstFaults = new ArrayList<>();

    synchronized void syscall(Difference difference) {
        events++;
        syscalls++;
        if (difference != null) {
            syscallDiffs++;
            keep(firstSyscalls, difference);
        }
    }

    synchronized void userFault(Difference difference) {
        events++;
        faults++;
        if (difference != null) {
            faultDiffs++;
            keep(firstFaults, difference);
        }
    }

    synchronized void kernelFault() {
        events++;
        kernelFaults++;
    }

    synchronized void mapping() {
        events++;
    }

    synchronized void fork() {
        events++;
        forks++;
    }

    /** A forked child's copy torn down (its exec or last exit): a replayed step, though not a comparison. */
    synchronized void childExit() {
        events++;
    }

    private static void keep(List<Difference> first, Difference d) {
        if (first.size() < KEPT_DIFFERENCES) {
            first.add(d);
        }
    }

    /**
     * Every replayed event: syscalls, faults (user and kernel), mappings made at exec, forks of new processes and
     * the teardown of their copies.
     */
    public synchronized long eventsReplayed() {
        return events;
    }

    public synchronized long syscalls() {
        return syscalls;
    }

    /** Forks of new processes replayed (each copies the address space under its mmap write lock). */
    public synchronized long forks() {
        return forks;
    }

    /** Syscalls whose return value or errno differs from the trace. */
    public synchronized long syscallDifferences() {
        return syscallDiffs;
    }

    /** User-mode faults replayed. */
    public synchronized long userFaults() {
        return faults;
    }

    /** Kernel-mode faults replayed ({@code copy_to_user} and the like); their outcome is not compared. */
    public synchronized long kernelFaults() {
        return kernelFaults;
    }

    /** User faults that did not map the page (SEGV, ACCESS, BUS, OOM) although the program went on. */
    public synchronized long faultDifferences() {
        return faultDiffs;
    }

    /** {@link #syscallDifferences()} plus {@link #faultDifferences()}. */
    public synchronized long differences() {
        return syscallDiffs + faultDiffs;
    }

    /** The first {@value #KEPT_DIFFERENCES} syscall differences and the first user-fault ones, by line. */
    public synchronized List<Difference> firstDifferences() {
        List<Difference> all = new ArrayList<>(firstSyscalls);
        all.addAll(firstFaults);
        all.sort(java.util.Comparator.comparingInt(Difference::lineNo));
        return List.copyOf(all);
    }

    /** The first {@value #KEPT_DIFFERENCES} syscall differences in the order they were found. */
    public synchronized List<Difference> firstSyscallDifferences() {
        return List.copyOf(firstSyscalls);
    }

    /** The first {@value #KEPT_DIFFERENCES} user-fault differences in the order they were found. */
    public synchronized List<Difference> firstFaultDifferences() {
        return List.copyOf(firstFaults);
    }

    @Override
    public synchronized String toString() {
        return events + " events, " + syscallDiffs + "/" + syscalls + " syscalls differ, " + faultDiffs + "/" + faults
                + " user faults differ";
    }
}
