//! One versioned binary file holding an interaction matrix, its id maps and
//! alias tables, opened memory-mapped.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "NEGSAMPL"
//! 8       4     format version (u32, FORMAT_VERSION)
//! 12      4     byte-order mark 0x01020304 (written little-endian)
//! 16      8     file length in bytes
//! 24      8     number of sections
//! 32      8     number of users
//! 40      8     number of items
//! 48      8     xxh3-64 of the header (this field zeroed) and the directory
//! 56      72    reserved (zero)
//! 128     64*s  directory: one entry per section
//! ...           sections, each starting at a multiple of 64 bytes
//! ```
//!
//! A directory entry is `kind u32, element size u32, offset u64, count u64,
//! checksum u64 (xxh3-64 of the section's bytes), param0 u64, param1 u64,
//! reserved u64 x 2`. Section kinds: the CSR offsets (`u64`) and item ids
//! (`u32`); for users and for items, integer ids (`i64`) or string offsets
//! (`u64`) and bytes (`u8`), and the sorted order (`u32`); alias tables
//! (`u64` slots) with the proposal they encode in `param0` / `param1`.
//! All numbers are little-endian; a big-endian machine refuses the file.
//!
//! [`open`] maps the file read-only and points the engine's arrays into the
//! mapping (read-only views of the map), so processes that open the same
//! file share one copy in the page cache, and opening costs the header
//! checks plus, unless `verify` is off, one pass over the bytes for the
//! checksums and the structure (rows sorted, ids in range, aliases in
//! range).
//!
//! [`save`] writes to a temporary file beside the target and renames it into
//! place, so a reader never sees a half-written file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, Xxh3Default};

use super::idmap::Keys;
use super::{Dataset, IdMap, StoredTables};
use crate::draw::alias::AliasTable;
use crate::error::{Error, Result};
use crate::interactions::{Interactions, MAX_IDS};
use crate::memory::storage::{Plain, Storage};
use crate::sampler::Proposal;

/// The magic bytes every file starts with.
pub const MAGIC: [u8; 8] = *b"NEGSAMPL";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const BOM: u32 = 0x0102_0304;
const HEADER: usize = 128;
const ENTRY: usize = 64;
const ALIGN: usize = 64;

/// Which proposal an alias table stored in a file encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalKey {
    /// [`Proposal::Uniform`].
    Uniform,
    /// [`Proposal::Popularity`] with this `alpha` (as `f64` bits).
    Popularity {
        /// `alpha.to_bits()`.
        alpha_bits: u64,
    },
    /// [`Proposal::Weights`] whose weights hash to this value.
    Weights {
        /// xxh3-64 of the weights' `f64` bytes, little-endian.
        hash: u64,
    },
}

impl ProposalKey {
    /// The key of `proposal`.
    pub fn of(proposal: &Proposal) -> Self {
        match proposal {
            Proposal::Uniform => ProposalKey::Uniform,
            Proposal::Popularity { alpha } => ProposalKey::Popularity {
                alpha_bits: alpha.to_bits(),
            },
            Proposal::Weights(w) => ProposalKey::Weights {
                hash: xxh3_64(as_bytes(w)),
            },
        }
    }

    fn params(self) -> (u64, u64) {
        match self {
            ProposalKey::Uniform => (0, 0),
            ProposalKey::Popularity { alpha_bits } => (1, alpha_bits),
            ProposalKey::Weights { hash } => (2, hash),
        }
    }

    fn from_params(kind: u64, value: u64) -> Option<Self> {
        match kind {
            0 => Some(ProposalKey::Uniform),
            1 => Some(ProposalKey::Popularity { alpha_bits: value }),
            2 => Some(ProposalKey::Weights { hash: value }),
            _ => None,
        }
    }
}

/// What [`open`] returns: the dataset and the alias tables stored with it,
/// all pointing into one shared read-only mapping.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// The matrix and its id maps.
    pub dataset: Dataset,
    /// The alias tables saved with it, by proposal.
    pub tables: StoredTables,
    /// The file's size in bytes.
    pub bytes: u64,
}

impl StoredFile {
    /// The stored alias table of `proposal`, if the file has one (a cheap
    /// clone that shares the mapping).
    pub fn table(&self, proposal: &Proposal) -> Option<AliasTable> {
        self.tables.get(proposal)
    }
}

/// Section kinds.
mod kind {
    pub const INDPTR: u32 = 1;
    pub const INDICES: u32 = 2;
    /// Id map sections: base + 0 ints, +1 string offsets, +2 string bytes,
    /// +3 sorted order. Users at 16, items at 32.
    pub const USERS: u32 = 16;
    pub const ITEMS: u32 = 32;
    pub const ALIAS: u32 = 64;

    pub fn name(kind: u32) -> &'static str {
        match kind {
            INDPTR => "indptr",
            INDICES => "indices",
            16 => "user ids",
            17 => "user id offsets",
            18 => "user id bytes",
            19 => "user id order",
            32 => "item ids",
            33 => "item id offsets",
            34 => "item id bytes",
            35 => "item id order",
            ALIAS => "alias table",
            _ => "unknown",
        }
    }
}

fn as_bytes<T: Plain>(values: &[T]) -> &[u8] {
    // SAFETY: Plain types have no padding and any byte view of them is valid.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}

fn format_error(path: &Path, message: impl Into<String>) -> Error {
    Error::FileFormat {
        file: path.display().to_string(),
        message: message.into(),
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    super::lines::io_error(path, e)
}

fn big_endian_error(path: &Path) -> Error {
    format_error(
        path,
        "this machine is big-endian; negsample files are little-endian",
    )
}

/// A section to write.
struct Section<'a> {
    kind: u32,
    elem: u32,
    count: u64,
    bytes: &'a [u8],
    params: (u64, u64),
}

fn section<'a, T: Plain>(kind: u32, values: &'a [T]) -> Section<'a> {
    Section {
        kind,
        elem: size_of::<T>() as u32,
        count: values.len() as u64,
        bytes: as_bytes(values),
        params: (0, 0),
    }
}

fn idmap_sections<'a>(base: u32, map: &'a IdMap, out: &mut Vec<Section<'a>>) {
    match &map.keys {
        Keys::Int(values) => out.push(section(base, values)),
        Keys::Str { offsets, bytes } => {
            out.push(section(base + 1, offsets));
            out.push(section(base + 2, bytes));
        }
    }
    out.push(section(base + 3, &map.order));
}

fn padding(offset: u64) -> u64 {
    (ALIGN as u64 - offset % ALIGN as u64) % ALIGN as u64
}

/// Saves `data` and the alias `tables` (each with the proposal it encodes)
/// to `path`, replacing any file there.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::LengthMismatch`] if
/// a table's length is not the item count.
///
/// # Performance
/// One sequential write of the arrays (about 4 bytes per interaction, 8 per
/// user, 8 per item and table, plus the id maps), hashing as it goes.
pub fn save(path: &Path, data: &Dataset, tables: &[(ProposalKey, &AliasTable)]) -> Result<()> {
    save_parts(
        path,
        &data.interactions,
        data.users.as_ref(),
        data.items.as_ref(),
        tables,
    )
}

/// The alias table of `proposal` over `interactions`, as a sampler builds it
/// (the same bits), for [`save`].
///
/// # Errors
/// The proposal's errors, as [`crate::Sampler::new`].
pub fn proposal_table(interactions: &Interactions, proposal: &Proposal) -> Result<AliasTable> {
    proposal.table(interactions)
}

/// As [`save`], with the matrix and the id maps given separately (so that
/// shared ones need not be copied into a [`Dataset`]).
///
/// # Errors
/// As [`save`].
pub fn save_parts(
    path: &Path,
    m: &Interactions,
    users: Option<&IdMap>,
    items: Option<&IdMap>,
    tables: &[(ProposalKey, &AliasTable)],
) -> Result<()> {
    if cfg!(target_endian = "big") {
        return Err(big_endian_error(path));
    }
    for (_, t) in tables {
        if t.len() != m.num_items() {
            return Err(Error::LengthMismatch {
                name: "table",
                len: t.len(),
                expected: format!("num_items ({})", m.num_items()),
            });
        }
    }
    let mut sections = vec![
        section(kind::INDPTR, m.indptr()),
        section(kind::INDICES, m.indices()),
    ];
    if let Some(users) = users {
        idmap_sections(kind::USERS, users, &mut sections);
    }
    if let Some(items) = items {
        idmap_sections(kind::ITEMS, items, &mut sections);
    }
    for (key, table) in tables {
        let mut s = section(kind::ALIAS, table.slots());
        s.params = key.params();
        sections.push(s);
    }
    // Layout.
    let mut offset = (HEADER + ENTRY * sections.len()) as u64;
    let mut offsets = Vec::with_capacity(sections.len());
    for s in &sections {
        offset += padding(offset);
        offsets.push(offset);
        offset += s.bytes.len() as u64;
    }
    let file_len = offset;
    let checksums: Vec<u64> = sections.par_iter().map(|s| xxh3_64(s.bytes)).collect();

    let mut header = vec![0u8; HEADER + ENTRY * sections.len()];
    header[0..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&BOM.to_le_bytes());
    header[16..24].copy_from_slice(&file_len.to_le_bytes());
    header[24..32].copy_from_slice(&(sections.len() as u64).to_le_bytes());
    header[32..40].copy_from_slice(&(m.num_users() as u64).to_le_bytes());
    header[40..48].copy_from_slice(&(m.num_items() as u64).to_le_bytes());
    for (j, s) in sections.iter().enumerate() {
        let e = &mut header[HEADER + j * ENTRY..HEADER + (j + 1) * ENTRY];
        e[0..4].copy_from_slice(&s.kind.to_le_bytes());
        e[4..8].copy_from_slice(&s.elem.to_le_bytes());
        e[8..16].copy_from_slice(&offsets[j].to_le_bytes());
        e[16..24].copy_from_slice(&s.count.to_le_bytes());
        e[24..32].copy_from_slice(&checksums[j].to_le_bytes());
        e[32..40].copy_from_slice(&s.params.0.to_le_bytes());
        e[40..48].copy_from_slice(&s.params.1.to_le_bytes());
    }
    let sum = xxh3_64(&header);
    header[48..56].copy_from_slice(&sum.to_le_bytes());

    let tmp = temp_path(path);
    let write = || -> std::io::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        out.write_all(&header)?;
        let mut at = header.len() as u64;
        let zeros = [0u8; ALIGN];
        for (s, &o) in sections.iter().zip(&offsets) {
            out.write_all(&zeros[..(o - at) as usize])?;
            out.write_all(s.bytes)?;
            at = o + s.bytes.len() as u64;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(path, &e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, &e)
    })
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// One directory entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    kind: u32,
    elem: u32,
    offset: u64,
    count: u64,
    checksum: u64,
    params: (u64, u64),
}

/// Opens a file written by [`save`], memory-mapped.
///
/// With `verify`, every section's checksum and the structure are checked
/// (one pass over the file, on all cores); without, only the header and the
/// directory are (milliseconds whatever the size), and a corrupt section may
/// make later calls fail or panic, never read outside the mapping.
///
/// The file must not be modified while it is open (processes that only read
/// it may share it freely; [`save`] replaces a file by renaming, which leaves
/// existing mappings intact).
///
/// # Errors
/// - [`Error::Io`]: the file cannot be opened or mapped.
/// - [`Error::FileFormat`]: not a negsample file (wrong magic), another
///   format version, another byte order, truncated (shorter than its header
///   says), a bad checksum (naming the section), or an inconsistent
///   structure.
///
/// # Performance
/// Without `verify`: O(sections). With it: O(file bytes), about one memory
/// pass. Heap use: a few hundred bytes; the arrays stay in the mapping.
pub fn open(path: &Path, verify: bool) -> Result<StoredFile> {
    if cfg!(target_endian = "big") {
        return Err(big_endian_error(path));
    }
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    let len = file.metadata().map_err(|e| io_error(path, &e))?.len();
    if len < HEADER as u64 {
        if len >= 8 && !starts_with_magic(&file) {
            return Err(format_error(
                path,
                "it does not start with the magic bytes NEGSAMPL",
            ));
        }
        return Err(format_error(
            path,
            format!("it is truncated: {len} bytes, shorter than the {HEADER}-byte header"),
        ));
    }
    // SAFETY: the mapping is read-only; the documented contract is that the
    // file is not modified while open. Every read through it is bounds-checked.
    let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(|e| io_error(path, &e))?);
    let b = &map[..];
    if b[0..8] != MAGIC {
        return Err(format_error(
            path,
            "it does not start with the magic bytes NEGSAMPL",
        ));
    }
    let version = u32_at(b, 8);
    if version != FORMAT_VERSION {
        return Err(format_error(
            path,
            format!(
                "it has format version {version}, and this build of negsample reads version {FORMAT_VERSION} only"
            ),
        ));
    }
    if u32_at(b, 12) != BOM {
        return Err(format_error(path, "its byte-order mark is wrong"));
    }
    let stated = u64_at(b, 16);
    if stated != len {
        return Err(format_error(
            path,
            if stated > len {
                format!("it is truncated: {len} bytes, its header says {stated}")
            } else {
                format!("it has {len} bytes, its header says {stated}")
            },
        ));
    }
    let count = u64_at(b, 24);
    if count > 1024 || HEADER as u64 + count * ENTRY as u64 > len {
        return Err(format_error(
            path,
            format!("its directory is corrupt ({count} sections)"),
        ));
    }
    let dir_end = HEADER + count as usize * ENTRY;
    let mut head = b[..dir_end].to_vec();
    head[48..56].fill(0);
    if xxh3_64(&head) != u64_at(b, 48) {
        return Err(format_error(
            path,
            "the header checksum does not match: the file is corrupt",
        ));
    }
    let num_users = u64_at(b, 32);
    let num_items = u64_at(b, 40);
    if num_users > MAX_IDS as u64 || num_items > MAX_IDS as u64 {
        return Err(format_error(path, "its user or item count is out of range"));
    }
    let entries: Vec<Entry> = (0..count as usize)
        .map(|j| {
            let e = HEADER + j * ENTRY;
            Entry {
                kind: u32_at(b, e),
                elem: u32_at(b, e + 4),
                offset: u64_at(b, e + 8),
                count: u64_at(b, e + 16),
                checksum: u64_at(b, e + 24),
                params: (u64_at(b, e + 32), u64_at(b, e + 40)),
            }
        })
        .collect();
    for e in &entries {
        let end = e
            .count
            .checked_mul(e.elem as u64)
            .and_then(|n| n.checked_add(e.offset));
        if !matches!(e.elem, 1 | 4 | 8)
            || e.offset < dir_end as u64
            || end.is_none_or(|end| end > len)
        {
            return Err(format_error(
                path,
                format!("section '{}' lies outside the file", kind::name(e.kind)),
            ));
        }
    }
    if verify {
        let bad = entries.par_iter().find_first(|e| {
            let start = e.offset as usize;
            let end = start + (e.count * e.elem as u64) as usize;
            checksum(&b[start..end]) != e.checksum
        });
        if let Some(e) = bad {
            return Err(format_error(
                path,
                format!(
                    "the checksum of section '{}' does not match: the file is corrupt",
                    kind::name(e.kind)
                ),
            ));
        }
    }
    let reader = Reader {
        path,
        map: &map,
        entries: &entries,
    };
    let indptr: Storage<u64> = reader.required(kind::INDPTR)?;
    let indices: Storage<u32> = reader.required(kind::INDICES)?;
    if indptr.len() as u64 != num_users + 1
        || indptr[0] != 0
        || indptr[indptr.len() - 1] != indices.len() as u64
    {
        return Err(format_error(path, "its CSR offsets do not match its sizes"));
    }
    if verify {
        check_csr(&indptr, &indices, num_items as usize).map_err(|m| format_error(path, m))?;
    }
    let interactions = Interactions::from_storage(num_items as usize, indptr, indices);
    let users = reader.idmap(kind::USERS, num_users, verify)?;
    let items = reader.idmap(kind::ITEMS, num_items, verify)?;
    let mut tables = Vec::new();
    for e in entries.iter().filter(|e| e.kind == kind::ALIAS) {
        let key = ProposalKey::from_params(e.params.0, e.params.1)
            .ok_or_else(|| format_error(path, "an alias table names an unknown proposal"))?;
        let slots: Storage<u64> = reader.view(e)?;
        if slots.len() as u64 != num_items || slots.is_empty() {
            return Err(format_error(
                path,
                "an alias table's length is not the item count",
            ));
        }
        if verify && slots.par_iter().any(|&s| (s >> 32) >= num_items) {
            return Err(format_error(
                path,
                "an alias table names an item out of range",
            ));
        }
        let uniform = key == ProposalKey::Uniform;
        let uniform_layout = |(i, &s): (usize, &u64)| s == ((i as u64) << 32 | u32::MAX as u64);
        if verify && uniform && !slots.iter().enumerate().all(uniform_layout) {
            return Err(format_error(
                path,
                "a uniform alias table does not have the uniform layout",
            ));
        }
        tables.push((key, AliasTable::from_storage(slots, uniform)));
    }
    Ok(StoredFile {
        dataset: Dataset {
            interactions,
            users,
            items,
        },
        tables: tables.into(),
        bytes: len,
    })
}

fn starts_with_magic(file: &File) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    (&*file).read_exact(&mut head).is_ok() && head == MAGIC
}

/// The checksum of a section's bytes (xxh3-64, streaming; it runs at about
/// memory speed, and sections are hashed in parallel).
fn checksum(bytes: &[u8]) -> u64 {
    let mut h = Xxh3Default::new();
    h.update(bytes);
    h.digest()
}

/// Checks that rows are strictly increasing and ids below `num_items`.
fn check_csr(indptr: &[u64], indices: &[u32], num_items: usize) -> std::result::Result<(), String> {
    if indptr.windows(2).any(|w| w[1] < w[0]) {
        return Err("its CSR offsets decrease".into());
    }
    let bad = (0..indptr.len() - 1).into_par_iter().find_first(|&u| {
        let row = &indices[indptr[u] as usize..indptr[u + 1] as usize];
        row.windows(2).any(|w| w[1] <= w[0]) || row.last().is_some_and(|&i| i as usize >= num_items)
    });
    match bad {
        Some(u) => Err(format!(
            "row {u} of its matrix is not sorted or names an item out of range"
        )),
        None => Ok(()),
    }
}

struct Reader<'a> {
    path: &'a Path,
    map: &'a Arc<Mmap>,
    entries: &'a [Entry],
}

impl Reader<'_> {
    fn find(&self, kind: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind == kind)
    }

    fn view<T: Plain>(&self, e: &Entry) -> Result<Storage<T>> {
        if e.elem as usize != size_of::<T>() {
            return Err(format_error(
                self.path,
                format!(
                    "section '{}' has {}-byte elements",
                    kind::name(e.kind),
                    e.elem
                ),
            ));
        }
        Storage::mapped(self.map, e.offset as usize, e.count as usize).ok_or_else(|| {
            format_error(
                self.path,
                format!(
                    "section '{}' is misaligned or outside the file",
                    kind::name(e.kind)
                ),
            )
        })
    }

    fn required<T: Plain>(&self, kind: u32) -> Result<Storage<T>> {
        let e = self.find(kind).ok_or_else(|| {
            format_error(
                self.path,
                format!("section '{}' is missing", kind::name(kind)),
            )
        })?;
        self.view(e)
    }

    fn idmap(&self, base: u32, n: u64, verify: bool) -> Result<Option<IdMap>> {
        let Some(order) = self.find(base + 3) else {
            return Ok(None);
        };
        let order: Storage<u32> = self.view(order)?;
        let keys = if let Some(e) = self.find(base) {
            Keys::Int(self.view(e)?)
        } else {
            Keys::Str {
                offsets: self.required(base + 1)?,
                bytes: self.required(base + 2)?,
            }
        };
        let map = IdMap { keys, order };
        let what = kind::name(base);
        if map.len() as u64 != n {
            return Err(format_error(
                self.path,
                format!("its {what} do not match the count"),
            ));
        }
        // Strings must be UTF-8 and offsets sane even without `verify`:
        // lookups read them. That is O(id bytes), small next to the matrix.
        let cheap = match &map.keys {
            Keys::Str { offsets, bytes } => {
                offsets.len() as u64 == n + 1
                    && offsets.windows(2).all(|w| w[0] <= w[1])
                    && offsets.last() == Some(&(bytes.len() as u64))
                    && std::str::from_utf8(bytes).is_ok()
            }
            Keys::Int(v) => v.len() as u64 == n,
        };
        if !cheap {
            return Err(format_error(self.path, format!("its {what} are corrupt")));
        }
        if verify {
            map.validate()
                .map_err(|m| format_error(self.path, format!("its {what} are corrupt: {m}")))?;
        }
        Ok(Some(map))
    }
}
