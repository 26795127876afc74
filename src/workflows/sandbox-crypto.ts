// Imported for its effect by the bundle's entry (src/workflows/index.ts), so every workflow has it. The workflow
// sandbox evaluates the bundle's modules afresh for each run, so @noble/curves' default 8-bit window for the Ed25519
// base point (a table of 4096 points, built lazily) was rebuilt by every run for the one or two signatures it
// verifies: ~60-150 ms of the single workflow thread per run, most of what validating a runbook cost in a 200-group
// evacuation. Without a table, verification takes the unsafe ladder (noble: "~x2 faster" than building windows for
// one use); results are identical, only speed differs.
import { ed25519 } from '@noble/curves/ed25519';

ed25519.Point.BASE.precompute(1);
