//! `cargo fuzz run read_delimited`: see `negsample_fuzz::read_delimited_bytes` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    negsample_fuzz::read_delimited_bytes(data);
});
