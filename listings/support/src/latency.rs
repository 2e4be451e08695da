//! A loopback server that simulates a slow remote API.
//! (To be written: see ARCHITECTURE.md.)
