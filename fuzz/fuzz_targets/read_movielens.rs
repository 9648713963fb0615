//! `cargo fuzz run read_movielens`: see `negsample_fuzz::read_movielens` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    negsample_fuzz::read_movielens(data);
});
