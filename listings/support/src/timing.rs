//! Clocks for the listings: wall time, CPU time, context switches, medians.
//! (To be written: see ARCHITECTURE.md.)
