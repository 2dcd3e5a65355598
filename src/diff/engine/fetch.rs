//! Pass 3: the rows that did not cancel, encoded again from where their chunks are.

use super::*;

/// A leftover row, encoded, on its way to being settled.
pub(super) struct Record {
    pub(super) side: u8,
    pub(super) key_hash: u64,
    pub(super) row_hash: u128,
    pub(super) row: Box<[u8]>,
}

/// A side to read again: its source, the table, and the table's name for errors.
pub(super) type Reread<'a> = Option<(&'a mut dyn Source, &'a TableMeta, String)>;

/// Encodes the rows that did not cancel, from the chunks that keep them (in parallel, chunk by
/// chunk), into the settle partitions. A side that keeps nothing reads again only the rows left,
/// and each must hash as it did the first time.
pub(super) fn materialise(
    leftover: Vec<Tuple>,
    kept: &[Vec<KeptChunk>; 2],
    spill: Option<&BatchSpill>,
    sides: &mut [SideCols; 2],
    reread: [Reread<'_>; 2],
) -> Result<Vec<Vec<Record>>, DiffError> {
    let mut by_chunk: BTreeMap<u32, Vec<Tuple>> = BTreeMap::new();
    for t in leftover {
        by_chunk.entry(t.chunk).or_default().push(t);
    }
    let mut parts: Vec<Vec<Record>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
    let mut place = |recs: Vec<Record>| {
        for r in recs {
            parts[partition_of(r.key_hash)].push(r);
        }
    };
    type Groups = Vec<(u32, Vec<Tuple>)>;
    let (again, groups): (Groups, Groups) = by_chunk.into_iter().partition(|(tag, _)| {
        let side = usize::from(tag & SIDE_BIT != 0);
        matches!(kept[side][(tag & !SIDE_BIT) as usize].data, Kept::Reread)
    });
    let reads = [sides[0].reads.clone(), sides[1].reads.clone()];
    let encoded: Vec<Result<Vec<Record>, DiffError>> = groups
        .into_par_iter()
        .map(|(tag, ts)| {
            let side = usize::from(tag & SIDE_BIT != 0);
            let k = &kept[side][(tag & !SIDE_BIT) as usize];
            let batch = match &k.data {
                Kept::Mem(b) => b.clone(),
                Kept::Disk(at) => match spill {
                    Some(sp) => sp.read(side, *at)?,
                    None => return Err(DiffError::Spill("a spilled chunk has no file".into())),
                },
                Kept::Reread => unreachable!("partitioned out above"),
            };
            records(side, &batch, &k.defects, &reads[side], &ts)
        })
        .collect();
    for recs in encoded {
        place(recs?);
    }
    // Sides read again: the rows left, by their position in the first read.
    let mut wanted: [Vec<(u64, Tuple)>; 2] = Default::default();
    let mut offsets: [Vec<u64>; 2] = Default::default();
    for (side, list) in kept.iter().enumerate() {
        let mut at = 0u64;
        for k in list {
            offsets[side].push(at);
            at += match &k.data {
                Kept::Mem(_) | Kept::Reread => k.read_rows as u64,
                // A side that spills to disk is never read again.
                Kept::Disk(_) => 0,
            };
        }
    }
    for (tag, ts) in again {
        let side = usize::from(tag & SIDE_BIT != 0);
        let chunk = (tag & !SIDE_BIT) as usize;
        let base = offsets[side][chunk];
        // A shard kept only its rows: a tuple's row is its place among them.
        let positions = kept[side][chunk].positions.as_deref();
        wanted[side].extend(ts.into_iter().map(|t| {
            let at = positions.map_or(t.row, |p| p[t.row as usize]);
            (base + u64::from(at), t)
        }));
    }
    // Both sides are read again at once, each on its own thread.
    let [w0, w1] = wanted;
    let [r0, r1] = reread;
    let (c0, c1) = {
        let [s0, s1] = sides;
        let (reads0, reads1) = (&reads[0], &reads[1]);
        std::thread::scope(|scope| {
            let h = scope.spawn(move || reread_side(0, r0, w0, s0, reads0));
            let b = reread_side(1, r1, w1, s1, reads1);
            (
                h.join()
                    .unwrap_or_else(|_| Err(DiffError::Spill("a reader thread failed".into()))),
                b,
            )
        })
    };
    place(c0?);
    place(c1?);
    Ok(parts)
}

/// Reads again the rows left of one side (by their position in the first read); each must hash
/// as it did on the first read.
pub(super) fn reread_side(
    side: usize,
    again: Reread<'_>,
    mut wanted: Vec<(u64, Tuple)>,
    cols: &mut SideCols,
    reads: &[Read],
) -> Result<Vec<Record>, DiffError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let Some((source, meta, table)) = again else {
        return Err(DiffError::Spill(
            "rows left on a side that cannot be read again".into(),
        ));
    };
    let changed = || DiffError::Changed {
        side: if side == 0 { "source" } else { "target" }.into(),
        table: table.clone(),
    };
    wanted.sort_unstable_by_key(|(at, _)| *at);
    let rows: Vec<u64> = wanted.iter().map(|(at, _)| *at).collect();
    let mut out = Vec::with_capacity(wanted.len());
    let mut next = 0usize;
    for chunk in source.read_rows(meta, &rows)? {
        let chunk = chunk?;
        let n = chunk.batch.num_rows();
        if next + n > wanted.len() {
            return Err(changed());
        }
        let ts: Vec<Tuple> = wanted[next..next + n]
            .iter()
            .enumerate()
            .map(|(i, (_, t))| Tuple {
                row: i as u32,
                ..*t
            })
            .collect();
        next += n;
        let (batch, defects) = prepared(cols, &chunk, &table)?;
        let mut recs = records(side, &batch, &defects, reads, &ts)?;
        for (r, (_, t)) in recs.iter_mut().zip(&wanted[next - n..next]) {
            if xxh3_128(&r.row) != t.row_hash {
                return Err(changed());
            }
        }
        out.append(&mut recs);
    }
    if next == wanted.len() {
        Ok(out)
    } else {
        Err(changed())
    }
}

/// The records of some rows of a chunk.
pub(super) fn records(
    side: usize,
    batch: &RecordBatch,
    defects: &[(usize, usize, Vec<u8>)],
    reads: &[Read],
    ts: &[Tuple],
) -> Result<Vec<Record>, DiffError> {
    let rows: Vec<u32> = ts.iter().map(|t| t.row).collect();
    let enc = encode_rows(batch, defects, reads, &rows)?;
    Ok(ts
        .iter()
        .zip(enc)
        .map(|(t, row)| Record {
            side: side as u8,
            key_hash: t.key_hash,
            row_hash: t.row_hash,
            row: row.into_boxed_slice(),
        })
        .collect())
}
