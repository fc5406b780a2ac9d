/**
 * Replaying recorded traces ({@link dev.mmlab.bench.trace}) on the model address space under each strategy,
 * and the kernel-as-oracle comparison. {@link dev.mmlab.bench.replay.Replayer} is the entry point;
 * {@link dev.mmlab.bench.replay.ReplayCommand} and {@link dev.mmlab.bench.replay.RecordCommand} are the
 * {@code mmlab replay} and {@code mmlab record} subcommands. See {@code docs/replay.md}.
 */
package dev.mmlab.bench.replay;
