//! Writing interaction files (the readers' formats), for exports and for
//! generating benchmark inputs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::lines::io_error;
use super::{Dataset, IdMap, Original};
use crate::error::Result;
use crate::interactions::Interactions;

fn push_int(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[..n].iter().rev());
}

fn push_id(out: &mut Vec<u8>, map: Option<&IdMap>, dense: u32) {
    match map.map(|m| m.original(dense)) {
        None => push_int(out, dense as u64),
        Some(Original::Int(v)) => {
            if v < 0 {
                out.push(b'-');
            }
            push_int(out, v.unsigned_abs());
        }
        Some(Original::Str(s)) => out.extend_from_slice(s.as_bytes()),
    }
}

fn write_with(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let run = || -> std::io::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        body(&mut out)?;
        out.flush()
    };
    run().map_err(|e| io_error(path, &e))
}

/// Writes `m` as adjacency lines (`user item item ...`, dense ids), one line
/// per user with at least one positive.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be written.
pub fn write_adjacency(path: &Path, m: &Interactions) -> Result<()> {
    write_with(path, |out| {
        let mut line = Vec::with_capacity(1 << 16);
        for u in 0..m.num_users() as u32 {
            let row = m.row(u);
            if row.is_empty() {
                continue;
            }
            line.clear();
            push_int(&mut line, u as u64);
            for &i in row {
                line.push(b' ');
                push_int(&mut line, i as u64);
            }
            line.push(b'\n');
            out.write_all(&line)?;
        }
        Ok(())
    })
}

/// Writes `data` as CSV pairs with the header `user,item`, one line per
/// positive, ids as the id maps name them (dense ids where there is none).
/// String ids are written as they are: they must not hold commas, quotes or
/// line breaks.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be written.
pub fn write_csv_pairs(path: &Path, data: &Dataset) -> Result<()> {
    let m = &data.interactions;
    write_with(path, |out| {
        out.write_all(b"user,item\n")?;
        let mut line = Vec::with_capacity(1 << 16);
        for u in 0..m.num_users() as u32 {
            line.clear();
            for &i in m.row(u) {
                push_id(&mut line, data.users.as_ref(), u);
                line.push(b',');
                push_id(&mut line, data.items.as_ref(), i);
                line.push(b'\n');
            }
            out.write_all(&line)?;
        }
        Ok(())
    })
}
