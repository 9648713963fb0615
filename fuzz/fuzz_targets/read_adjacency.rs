//! `cargo fuzz run read_adjacency`: see `negsample_fuzz::read_adjacency_bytes` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    negsample_fuzz::read_adjacency_bytes(data);
});
