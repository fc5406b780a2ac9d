/**
 * Differential testing of the model against this machine's kernel: op scripts ({@link
 * dev.mmlab.bench.oracle.OpScript}) run by a C driver on the kernel ({@link dev.mmlab.bench.oracle.KernelDriver})
 * and on the model under each strategy ({@link dev.mmlab.bench.oracle.ModelDriver}), compared by {@link
 * dev.mmlab.bench.oracle.OracleComparison}; {@code mmlab oracle run} and {@code mmlab oracle fuzz}. See
 * {@code docs/oracle.md}.
 */
package dev.mmlab.bench.oracle;
