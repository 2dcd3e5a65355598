//! Canonical encoding of the values that are more than one scalar: lists (any offset width,
//! fixed size), maps, structs, unions (an SQLite column mixing storage classes), dictionaries of
//! any value type, and the decimal and date widths that [`super::kind::normalize`] does not bring
//! to one kind (Decimal32/64/256, Date64).
//!
//! Nested values are encoded element by element with the same tag + length rules as scalars, so
//! no display text stands in for them: `["p", "q"]` ≠ `["p, q"]`, `{a: NULL}` ≠ `{a: ""}`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, OffsetSizeTrait, UnionArray};
use arrow::datatypes::{DataType, Date64Type, Decimal256Type, TimeUnit};

use super::canonical::{encode_column_with, instant, number, push, tag, TextAs};

/// The canonical encodings of every element of a child array.
fn encode_elements(array: &ArrayRef, text_as: TextAs, int_as_bool: bool) -> Vec<Vec<u8>> {
    let mut rows = vec![Vec::new(); array.len()];
    encode_column_with(array, text_as, int_as_bool, &[], &mut rows);
    rows
}

/// Lists and map entries: row `i` holds `values[offsets[i]..offsets[i + 1]]`, encoded in order,
/// each element self-delimiting, under one [`tag::LIST`]; a NULL list is NULL, an empty list is
/// not. Only the values the rows reach are encoded (a sliced array keeps its parent's values).
fn encode_list<O: OffsetSizeTrait>(
    rows: &mut [Vec<u8>],
    n: usize,
    is_null: impl Fn(usize) -> bool,
    offsets: &[O],
    values: &ArrayRef,
) {
    let base = offsets[0].as_usize();
    let end = offsets[offsets.len() - 1].as_usize();
    let elems = encode_elements(&values.slice(base, end - base), TextAs::Text, false);
    for (i, out) in rows.iter_mut().enumerate().take(n) {
        if is_null(i) {
            push(out, tag::NULL, &[]);
            continue;
        }
        let (a, b) = (
            offsets[i].as_usize() - base,
            offsets[i + 1].as_usize() - base,
        );
        push(out, tag::LIST, &elems[a..b].concat());
    }
}

/// Encodes `array` when its type is one of this module's; false for every other type (a scalar
/// kind, encoded by [`encode_column_with`]).
pub(super) fn encode_composite(
    array: &ArrayRef,
    text_as: TextAs,
    int_as_bool: bool,
    invalid: &[(usize, &[u8])],
    rows: &mut [Vec<u8>],
) -> bool {
    let n = array.len().min(rows.len());
    match array.data_type() {
        DataType::List(_) => {
            let a = array.as_list::<i32>();
            encode_list(rows, n, |i| a.is_null(i), a.value_offsets(), a.values());
        }
        DataType::LargeList(_) => {
            let a = array.as_list::<i64>();
            encode_list(rows, n, |i| a.is_null(i), a.value_offsets(), a.values());
        }
        DataType::FixedSizeList(_, size) => {
            let a = array.as_fixed_size_list();
            let size = *size as i64;
            let first = a.offset() as i64;
            let offsets: Vec<i64> = (0..=a.len() as i64).map(|i| (first + i) * size).collect();
            encode_list(rows, n, |i| a.is_null(i), &offsets, a.values());
        }
        DataType::Map(_, _) => {
            let a = array.as_map();
            let entries: ArrayRef = Arc::new(a.entries().clone());
            encode_list(rows, n, |i| a.is_null(i), a.value_offsets(), &entries);
        }
        DataType::Struct(fields) => {
            // Each field as its name (length-prefixed) and its value, in the order of the names
            // (fields pair by name, as columns do): {b: NULL} ≠ {b: ""}, {a: 1} ≠ {b: 1}, and
            // {x: 1, y: 2} = {y: 2, x: 1}.
            let a = array.as_struct();
            let mut order: Vec<usize> = (0..fields.len()).collect();
            order.sort_by(|&x, &y| fields[x].name().cmp(fields[y].name()));
            let children: Vec<Vec<Vec<u8>>> = a
                .columns()
                .iter()
                .map(|c| encode_elements(c, TextAs::Text, false))
                .collect();
            for (i, out) in rows.iter_mut().enumerate().take(n) {
                if a.is_null(i) {
                    push(out, tag::NULL, &[]);
                    continue;
                }
                let mut payload = Vec::new();
                for &j in &order {
                    let name = fields[j].name();
                    payload.extend_from_slice(&(name.len() as u32).to_le_bytes());
                    payload.extend_from_slice(name.as_bytes());
                    payload.extend_from_slice(&children[j][i]);
                }
                push(out, tag::STRUCT, &payload);
            }
        }
        DataType::Union(fields, _) => {
            // Each value keeps its own type (SQLite's storage class per value): the child it
            // sits in decides its encoding, never a type merged over the column.
            let a = array
                .as_any()
                .downcast_ref::<UnionArray>()
                .expect("a Union data type is a UnionArray");
            let dense = a.offsets().is_some();
            let mut children: Vec<(i8, Vec<Vec<u8>>)> = Vec::new();
            for (tid, _) in fields.iter() {
                let child = a.child(tid);
                // Invalid UTF-8 positions are batch rows; in a dense union the child has its own.
                let bad: Vec<(usize, &[u8])> = invalid
                    .iter()
                    .filter(|(r, _)| *r < n && a.type_id(*r) == tid)
                    .map(|(r, b)| (if dense { a.value_offset(*r) } else { *r }, *b))
                    .collect();
                let mut enc = vec![Vec::new(); child.len()];
                encode_column_with(child, text_as, int_as_bool, &bad, &mut enc);
                children.push((tid, enc));
            }
            for (i, out) in rows.iter_mut().enumerate().take(n) {
                let tid = a.type_id(i);
                let off = a.value_offset(i);
                match children.iter().find(|(t, _)| *t == tid) {
                    Some((_, enc)) => out.extend_from_slice(&enc[off]),
                    None => push(out, tag::NULL, &[]),
                }
            }
        }
        DataType::Dictionary(_, value) => {
            // A dictionary of any value type is its values: cast to the value type (no loss).
            match arrow::compute::cast(array, value) {
                Ok(plain) => encode_column_with(&plain, text_as, int_as_bool, invalid, rows),
                Err(_) => return false,
            }
        }
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => {
            match arrow::compute::cast(array, &DataType::Decimal128(*p, *s)) {
                Ok(wide) => encode_column_with(&wide, text_as, int_as_bool, invalid, rows),
                Err(_) => return false,
            }
        }
        DataType::Decimal256(_, s) => {
            let a = array.as_primitive::<Decimal256Type>();
            for (i, out) in rows.iter_mut().enumerate().take(n) {
                if a.is_null(i) {
                    push(out, tag::NULL, &[]);
                } else {
                    let v = a.value(i).to_string();
                    let (neg, digits) = match v.strip_prefix('-') {
                        Some(d) => (true, d),
                        None => (false, v.as_str()),
                    };
                    number(out, neg, digits.as_bytes(), -i32::from(*s));
                }
            }
        }
        DataType::Date64 => {
            // Milliseconds: a whole day is that date (as Date32 would be); anything else is a
            // date-time, so no time of day is dropped.
            let a = array.as_primitive::<Date64Type>();
            for (i, out) in rows.iter_mut().enumerate().take(n) {
                if a.is_null(i) {
                    push(out, tag::NULL, &[]);
                    continue;
                }
                let v = a.value(i);
                match i32::try_from(v.div_euclid(86_400_000)) {
                    Ok(d) if v.rem_euclid(86_400_000) == 0 => {
                        push(out, tag::DATE, &d.to_le_bytes())
                    }
                    _ => instant(out, tag::LOCAL_DATETIME, v, &TimeUnit::Millisecond),
                }
            }
        }
        _ => return false,
    }
    true
}
