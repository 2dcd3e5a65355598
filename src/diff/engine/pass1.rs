//! Pass 1: every row of both sides to (key hash, row hash, where it is kept), chunk by chunk;
//! the kept chunks within `--memory-limit`.
//!
//! Two drivers feed the same bookkeeping. Sources that split a table into parts (Parquet row
//! groups) are decoded and hashed part by part as parallel tasks, both sides at once, and taken in
//! a fixed order; other sources stream, each on its own reader thread, taken in lockstep by rows
//! read.

use super::*;
use crate::diff::shard::Shard;

/// One chunk read, prepared and hashed.
pub(super) struct Hashed {
    batch: RecordBatch,
    defects: Vec<(usize, usize, Vec<u8>)>,
    kh: Vec<u64>,
    rh: Vec<u128>,
    aggs: Vec<AggregateAcc>,
    /// Under `--shard`: which rows are in the shard (the others are read, never compared).
    in_shard: Option<Vec<bool>>,
}

/// Prepares and hashes one chunk (rows and column aggregates in parallel). Under `--shard`, the
/// aggregates cover only the shard's rows, so they are computed once the key hashes say which.
pub(super) fn hash_one(
    cols: &mut SideCols,
    chunk: &Chunk,
    table: &str,
    pairing: &Pairing,
    shard: Option<Shard>,
) -> Result<Hashed, DiffError> {
    let (batch, defects) = prepared(cols, chunk, table)?;
    let reads = &cols.reads;
    let arrays: Vec<ArrayRef> = batch.columns().to_vec();
    let aggregate = |arrays: &[ArrayRef]| {
        arrays
            .par_iter()
            .zip(reads.par_iter())
            .map(|(a, r)| {
                let mut acc = AggregateAcc::default();
                acc.update(a, r);
                acc
            })
            .collect::<Vec<_>>()
    };
    let Some(shard) = shard else {
        let ((kh, rh), aggs) = rayon::join(
            || hash_chunk(&arrays, &defects, reads, pairing),
            || aggregate(&arrays),
        );
        return Ok(Hashed {
            batch,
            defects,
            kh,
            rh,
            aggs,
            in_shard: None,
        });
    };
    // Keyed: the key columns alone give the key hashes, and only the shard's rows are encoded
    // whole for their row hashes. Keyless, the key is the whole row.
    let key_len = pairing.key_len;
    let n = batch.num_rows();
    let (mut kh, mut rh) = if key_len == 0 {
        hash_chunk(&arrays, &defects, reads, pairing)
    } else {
        let key_defects: Vec<(usize, usize, Vec<u8>)> = defects
            .iter()
            .filter(|(c, _, _)| *c < key_len)
            .cloned()
            .collect();
        let (kh, _) = hash_chunk(&arrays[..key_len], &key_defects, &reads[..key_len], pairing);
        (kh, Vec::new())
    };
    let mask: Vec<bool> = kh.iter().map(|&k| shard.contains(k)).collect();
    let filter = arrow::array::BooleanArray::from(mask.clone());
    let mine: Vec<ArrayRef> = arrays
        .iter()
        .map(|a| arrow::compute::filter(a.as_ref(), &filter))
        .collect::<Result<_, _>>()
        .map_err(|e| DiffError::Spill(e.to_string()))?;
    if key_len > 0 {
        // The shard's rows, encoded whole: their invalid-UTF-8 values by their new positions.
        let mut at = vec![usize::MAX; n];
        let mut next = 0;
        for (i, &m) in mask.iter().enumerate() {
            if m {
                at[i] = next;
                next += 1;
            }
        }
        let mine_defects: Vec<(usize, usize, Vec<u8>)> = defects
            .iter()
            .filter(|(_, r, _)| mask[*r])
            .map(|(c, r, b)| (*c, at[*r], b.clone()))
            .collect();
        let (mine_kh, mine_rh) = hash_chunk(&mine, &mine_defects, reads, pairing);
        rh = vec![0; n];
        for (i, &a) in at.iter().enumerate() {
            if a != usize::MAX {
                rh[i] = mine_rh[a];
                kh[i] = mine_kh[a];
            }
        }
    }
    Ok(Hashed {
        batch,
        defects,
        kh,
        rh,
        aggs: aggregate(&mine),
        in_shard: Some(mask),
    })
}

/// What pass 1 leaves: the tuples, where the chunks are kept, and what was learnt on the way.
pub(super) struct Pass1 {
    pub(super) tuples: [Vec<Tuple>; 2],
    pub(super) kept: [Vec<KeptChunk>; 2],
    pub(super) spill: Option<BatchSpill>,
    pub(super) tuple_spill: Option<TupleSpill>,
    pub(super) aggs: [Vec<AggregateAcc>; 2],
    pub(super) read: [u64; 2],
    pub(super) side_hashes: [u128; 2],
    /// Bytes of the values read (the Arrow buffers of each chunk as prepared).
    pub(super) bytes_read: [u64; 2],
    /// `--memory-limit` was reached: chunks or tuples left memory.
    pub(super) over_limit: bool,
    kept_bytes: usize,
    keep: [bool; 2],
    rereadable: [bool; 2],
    budget: u64,
    spill_dir: Option<PathBuf>,
}

impl Pass1 {
    fn new(ncols: usize, rereadable: [bool; 2], opts: &DiffOptions) -> Pass1 {
        Pass1 {
            tuples: Default::default(),
            kept: Default::default(),
            spill: None,
            tuple_spill: None,
            aggs: [
                vec![AggregateAcc::default(); ncols],
                vec![AggregateAcc::default(); ncols],
            ],
            read: [0, 0],
            side_hashes: [0, 0],
            bytes_read: [0, 0],
            over_limit: false,
            kept_bytes: 0,
            keep: [true, true],
            rereadable,
            // Kept chunks and tuples get three quarters of `--memory-limit`: the rest is for the
            // chunks being read and encoded.
            budget: opts.memory_limit / 4 * 3,
            spill_dir: opts.spill_dir.clone(),
        }
    }

    /// Takes one hashed chunk of `side`, in read order.
    fn accept(&mut self, side: usize, h: Hashed) -> Result<(), DiffError> {
        let Hashed {
            batch,
            defects,
            kh,
            rh,
            aggs,
            in_shard,
        } = h;
        for (acc, a) in self.aggs[side].iter_mut().zip(aggs) {
            acc.merge(a);
        }
        self.bytes_read[side] += batch
            .columns()
            .iter()
            .map(|a| a.to_data().get_slice_memory_size().unwrap_or(0) as u64)
            .sum::<u64>();
        // Under a shard, only its rows are counted, compared and kept; each kept row remembers
        // its position in the chunk as read (rows are read again by position).
        let n = kh.len();
        let mine = |i: usize| in_shard.as_ref().is_none_or(|m| m[i]);
        let (batch, defects, positions) = match &in_shard {
            None => (batch, defects, None),
            Some(mask) => {
                let filter = arrow::array::BooleanArray::from(mask.clone());
                let kept = arrow::compute::filter_record_batch(&batch, &filter)
                    .map_err(|e| DiffError::Spill(e.to_string()))?;
                let positions: Vec<u32> = (0..n).filter(|&i| mask[i]).map(|i| i as u32).collect();
                let mut at = vec![u32::MAX; n];
                for (j, &p) in positions.iter().enumerate() {
                    at[p as usize] = j as u32;
                }
                let defects = defects
                    .into_iter()
                    .filter(|(_, r, _)| mask[*r])
                    .map(|(c, r, b)| (c, at[r] as usize, b))
                    .collect();
                (kept, defects, Some(positions))
            }
        };
        self.read[side] += in_shard
            .as_ref()
            .map_or(n, |m| m.iter().filter(|&&b| b).count()) as u64;
        let chunk_no = u32::try_from(self.kept[side].len())
            .ok()
            .filter(|c| c & SIDE_BIT == 0)
            .ok_or_else(|| DiffError::Spill("more than 2^31 chunks on one side".into()))?;
        let tag = chunk_no | if side == 1 { SIDE_BIT } else { 0 };
        let tuples = &mut self.tuples[side];
        tuples.reserve(n);
        let mut row = 0u32;
        for (i, (k, r)) in kh.into_iter().zip(rh).enumerate() {
            if !mine(i) {
                continue;
            }
            self.side_hashes[side] = self.side_hashes[side].wrapping_add(r);
            tuples.push(Tuple {
                row_hash: r,
                key_hash: k,
                chunk: tag,
                row,
            });
            row += 1;
        }
        if self.keep[side] {
            self.kept_bytes += batch.get_array_memory_size();
            self.kept[side].push(KeptChunk {
                data: Kept::Mem(batch),
                defects,
                read_rows: n,
                positions,
            });
        } else {
            self.kept[side].push(KeptChunk {
                data: Kept::Reread,
                defects: Vec::new(),
                read_rows: n,
                positions,
            });
        }
        // Past the memory limit the kept chunks leave memory (the tuples stay): dropped, to be
        // read again, or written to disk. A side that reads the same rows twice (files, SQLite)
        // keeps nothing from then on; a database side writes its chunks to disk.
        let tuple_bytes =
            (self.tuples[0].len() + self.tuples[1].len()) * std::mem::size_of::<Tuple>();
        if (self.kept_bytes + tuple_bytes) as u64 > self.budget && self.kept_bytes > 0 {
            self.over_limit = true;
            for (s, list) in self.kept.iter_mut().enumerate() {
                if self.rereadable[s] {
                    self.keep[s] = false;
                    for k in list.iter_mut() {
                        if let Kept::Mem(_) = &k.data {
                            k.data = Kept::Reread;
                            k.defects = Vec::new();
                        }
                    }
                    continue;
                }
                if self.spill.is_none() {
                    self.spill = Some(BatchSpill::new(&self.spill_dir)?);
                }
                if let Some(sp) = self.spill.as_mut() {
                    for k in list.iter_mut() {
                        if let Kept::Mem(b) = &k.data {
                            let at = sp.write(s, b)?;
                            k.data = Kept::Disk(at);
                        }
                    }
                }
            }
            self.kept_bytes = 0;
        }
        // Tuples past half the limit go to their partitions on disk.
        if (tuple_bytes as u64).saturating_mul(2) > self.budget {
            self.over_limit = true;
            if self.tuple_spill.is_none() {
                self.tuple_spill = Some(TupleSpill::new(&self.spill_dir)?);
            }
            if let Some(ts) = self.tuple_spill.as_mut() {
                ts.write(&mut self.tuples)?;
            }
        }
        Ok(())
    }
}

/// What every chunk is hashed with: both tables' names (for errors), the pairing, the shard.
type HashWith<'a> = (&'a [String; 2], &'a Pairing, Option<Shard>);

/// Pass 1 over both sides.
pub(super) fn pass1(
    source: &mut dyn Source,
    target: &mut dyn Source,
    plan: &TablePlan,
    opts: &DiffOptions,
    sides: &mut [SideCols; 2],
    pairing: &Pairing,
    progress: Progress<'_>,
) -> Result<Pass1, DiffError> {
    let table_names = &[plan.source.name.to_string(), plan.target.name.to_string()];
    let mut st = Pass1::new(
        plan.columns.len(),
        [source.rereadable(), target.rereadable()],
        opts,
    );
    let parts = [
        source.read_parts(&plan.source)?,
        target.read_parts(&plan.target)?,
    ];
    // Parts small enough to decode whole go in parallel; a file of huge row groups streams.
    let ahead = match &parts {
        [Some(p0), Some(p1)] => crate::source::parts::ahead(&[p0, p1]),
        _ => None,
    };
    match (parts, ahead) {
        ([Some(p0), Some(p1)], Some(ahead)) => by_parts(
            &mut st,
            [p0, p1],
            ahead,
            sides,
            (table_names, pairing, opts.shard),
            progress,
        )?,
        _ => {
            let streams = [source.read(&plan.source)?, target.read(&plan.target)?];
            by_streams(
                &mut st,
                streams,
                sides,
                (table_names, pairing, opts.shard),
                progress,
            )?
        }
    }
    if let Some(sp) = st.spill.as_mut() {
        sp.finish()?;
    }
    Ok(st)
}

/// Parts of both sides (interleaved by rows, source first on ties) decoded and hashed as parallel
/// tasks and taken in that order: the same chunks in the same order at any thread count. A new
/// part starts as soon as one is taken, with never more than a few decoded ahead of the one taken
/// next, so memory stays bounded and no thread waits for a whole window to finish.
fn by_parts(
    st: &mut Pass1,
    parts: [Vec<Part>; 2],
    ahead: usize,
    sides: &mut [SideCols; 2],
    (table_names, pairing, shard): HashWith<'_>,
    progress: Progress<'_>,
) -> Result<(), DiffError> {
    let mut order: Vec<(usize, Part)> = Vec::new();
    {
        let [p0, p1] = parts;
        let (mut i0, mut i1) = (p0.into_iter().peekable(), p1.into_iter().peekable());
        let mut rows = [0u64; 2];
        loop {
            let side = match (i0.peek(), i1.peek()) {
                (None, None) => break,
                (Some(_), None) => 0,
                (None, Some(_)) => 1,
                (Some(_), Some(_)) => usize::from(rows[1] < rows[0]),
            };
            let p = if side == 0 { i0.next() } else { i1.next() };
            if let Some(p) = p {
                rows[side] += p.rows;
                order.push((side, p));
            }
        }
    }
    let take = |st: &mut Pass1, side: usize, hashed: Vec<Hashed>| -> Result<(), DiffError> {
        for h in hashed {
            st.accept(side, h)?;
        }
        progress(st.read[0], st.read[1]);
        Ok(())
    };
    // Each part with its own copy of the side's column plan, hashed as a pool task.
    let items: Vec<(usize, Part, SideCols)> = order
        .into_iter()
        .map(|(side, part)| (side, part, sides[side].clone()))
        .collect();
    let shared = Arc::new((pairing.clone(), table_names.clone()));
    crate::source::parts::in_order(
        items,
        ahead,
        move |(side, part, cols)| {
            let (pairing, names) = &*shared;
            (side, hash_part(part, cols, &names[side], pairing, shard))
        },
        |(side, hashed)| take(st, side, hashed?),
    )
}

/// Reads one part and hashes its chunks.
fn hash_part(
    part: Part,
    mut cols: SideCols,
    table: &str,
    pairing: &Pairing,
    shard: Option<Shard>,
) -> Result<Vec<Hashed>, DiffError> {
    let chunks = (part.read)()?;
    chunks
        .iter()
        .map(|c| hash_one(&mut cols, c, table, pairing, shard))
        .collect()
}

/// Both sides streamed, each on its own reader thread, taken in lockstep by rows read.
fn by_streams(
    st: &mut Pass1,
    streams: [ChunkStream; 2],
    sides: &mut [SideCols; 2],
    (table_names, pairing, shard): HashWith<'_>,
    progress: Progress<'_>,
) -> Result<(), DiffError> {
    std::thread::scope(|scope| -> Result<(), DiffError> {
        let [s0, s1] = streams;
        let rx = [spawn_reader(scope, s0), spawn_reader(scope, s1)];
        let mut done = [false, false];
        while !(done[0] && done[1]) {
            // Lockstep: take from the side that has read fewer rows.
            let side = if done[0] {
                1
            } else if done[1] || st.read[0] <= st.read[1] {
                0
            } else {
                1
            };
            let chunk = match rx[side].recv() {
                Ok(c) => c?,
                Err(_) => {
                    done[side] = true;
                    continue;
                }
            };
            let h = hash_one(&mut sides[side], &chunk, &table_names[side], pairing, shard)?;
            st.accept(side, h)?;
            progress(st.read[0], st.read[1]);
        }
        Ok(())
    })
}

/// Reads a stream on its own thread into a small bounded channel.
fn spawn_reader<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    stream: ChunkStream,
) -> Receiver<Result<Chunk, SourceError>> {
    let (tx, rx) = sync_channel(2);
    scope.spawn(move || {
        for c in stream {
            let stop = c.is_err();
            if tx.send(c).is_err() || stop {
                break;
            }
        }
    });
    rx
}
