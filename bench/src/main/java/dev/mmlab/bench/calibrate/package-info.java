/**
 * {@code mmlab calibrate}: measuring what each {@link dev.mmlab.api.sync.Cost} step costs on this machine,
 * either in its kernel ({@link dev.mmlab.bench.calibrate.KernelProbe}, with a C program shipped in the jar) or
 * in the model itself ({@link dev.mmlab.bench.calibrate.ModelProbe}, timed on the wall clock and fitted to the
 * steps the engine charges), and writing the result as a cost profile
 * ({@link dev.mmlab.bench.calibrate.ProfileWriter}) for {@code compare --clock virtual --profile FILE}.
 */
package dev.mmlab.bench.calibrate;
