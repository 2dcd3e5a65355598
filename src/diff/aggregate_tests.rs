//! Tests of the column aggregates: exact sums, extremes in canonical order whatever the
//! chunking, and the state written down for `reckon merge`.

use std::sync::Arc;

use super::*;

fn read(t: TextAs) -> Read {
    Read::plain(t)
}

#[test]
fn decimal_text_and_decimals_agree_exactly() {
    let mut a = AggregateAcc::default();
    a.update(
        &(Arc::new(StringArray::from(vec![
            Some("18.00000"),
            Some("0.10"),
            None,
        ])) as ArrayRef),
        &read(TextAs::Decimal),
    );
    let mut b = AggregateAcc::default();
    let d = Decimal128Array::from(vec![Some(1800), Some(10), None])
        .with_precision_and_scale(10, 2)
        .unwrap();
    b.update(&(Arc::new(d) as ArrayRef), &read(TextAs::Text));
    let (x, y) = (a.finish(false), b.finish(false));
    assert_eq!(x, y);
    assert_eq!(x.sum.as_deref(), Some("18.1"));
    assert_eq!(x.max.as_deref(), Some("18"));
    assert_eq!(x.nulls, 1);
    assert_eq!(a.finish(true).max.as_deref(), Some("(sensitive)"));
}

#[test]
fn written_down_states_merge_as_the_accumulators_do() {
    let floats = |v: Vec<Option<f64>>| Arc::new(Float64Array::from(v)) as ArrayRef;
    let ints = |v: Vec<Option<i64>>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let text = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
    let chunks: Vec<(ArrayRef, ArrayRef, ArrayRef)> = vec![
        (
            floats(vec![Some(1e100), Some(0.1), None]),
            ints(vec![Some(i64::MAX), Some(-3), None]),
            text(vec![Some("b"), None, Some("")]),
        ),
        (
            floats(vec![Some(1.0), Some(-1e100), Some(f64::MIN_POSITIVE / 8.0)]),
            ints(vec![Some(i64::MAX), None, Some(i64::MIN)]),
            text(vec![Some("a\u{0}z"), Some("é"), None]),
        ),
        (
            floats(vec![Some(f64::INFINITY)]),
            ints(vec![Some(7)]),
            text(vec![Some("zz")]),
        ),
    ];
    for upto in 1..=chunks.len() {
        for col in 0..3 {
            let r = read(TextAs::Text);
            let arrays: Vec<&ArrayRef> = chunks[..upto]
                .iter()
                .map(|c| [&c.0, &c.1, &c.2][col])
                .collect();
            // Whole: one accumulator merging every chunk. Shards: each chunk's accumulator
            // written down, read back, then merged.
            let mut whole = AggregateAcc::default();
            let mut shards = AggregateAcc::default();
            for a in &arrays {
                let mut one = AggregateAcc::default();
                one.update(a, &r);
                let back = AggregateAcc::from_state(&one.state()).expect("a state reads back");
                assert_eq!(back, one, "column {col}: the state is the accumulator");
                whole.merge(one);
                shards.merge(back);
            }
            assert_eq!(whole.finish(false), shards.finish(false));
            assert_eq!(AggregateAcc::from_state(&whole.state()), Some(whole));
        }
    }
    let mut bad = AggregateAcc::default().state();
    for sum in ["float:zz:", "exact:1", "sum", "exact:x:0"] {
        bad.sum = sum.into();
        assert_eq!(AggregateAcc::from_state(&bad), None, "{sum}");
    }
    bad.sum = "none".into();
    bad.min = Some("abc".into());
    assert_eq!(AggregateAcc::from_state(&bad), None, "odd hex");
}

#[test]
fn extremes_of_mixed_readings_do_not_depend_on_chunking() {
    // Integers facing a boolean (0/1 booleans, others numbers), and texts read as dates,
    // times or UUIDs (those that do not read stay text): the extremes of the canonical
    // values, whether the column comes in one chunk or one value at a time.
    let ints = |v: &[Option<i64>]| Arc::new(Int64Array::from(v.to_vec())) as ArrayRef;
    let texts = |v: &[Option<&str>]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    let as_bool = Read {
        int_as_bool: true,
        ..read(TextAs::Text)
    };
    let floats = |v: &[f64]| Arc::new(Float64Array::from(v.to_vec())) as ArrayRef;
    let cases: Vec<(Read, Vec<ArrayRef>)> = vec![
        (
            // Integers facing a float: those it holds are floats, the others numbers.
            read(TextAs::Float(crate::value::text::FloatWidth::F64)),
            [
                // Its numeric extremes are both numbers; one of its extremes is a float.
                Some((1 << 53) + 1),
                Some(5),
                Some(-(1 << 53) - 1),
                Some(3),
            ]
            .iter()
            .map(|v| ints(&[*v]))
            .collect(),
        ),
        (
            // Floats facing a decimal: finite ones are numbers, the infinities floats.
            read(TextAs::Decimal),
            [f64::NEG_INFINITY, 1.5, -2.5, f64::INFINITY, 0.1]
                .iter()
                .map(|v| floats(&[*v]))
                .collect(),
        ),
        (
            as_bool,
            [Some(2), Some(1), None, Some(0), Some(-4), Some(9)]
                .iter()
                .map(|v| ints(&[*v]))
                .collect(),
        ),
        (
            read(TextAs::Date),
            ["2020-01-05", "bad", "2019-12-31", "zz", "2020-1-5"]
                .iter()
                .map(|v| texts(&[Some(v)]))
                .collect(),
        ),
        (
            read(TextAs::Uuid),
            [
                "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
                "not a uuid",
            ]
            .iter()
            .map(|v| texts(&[Some(v)]))
            .collect(),
        ),
    ];
    for (r, singles) in cases {
        let mut by_value = AggregateAcc::default();
        for a in &singles {
            let mut one = AggregateAcc::default();
            one.update(a, &r);
            by_value.merge(one);
        }
        let refs: Vec<&dyn Array> = singles.iter().map(|a| a.as_ref()).collect();
        let whole = arrow::compute::concat(&refs).unwrap();
        let mut at_once = AggregateAcc::default();
        at_once.update(&whole, &r);
        // The definition: every value encoded and weighed.
        let mut rows = vec![Vec::new(); whole.len()];
        encode_column_with(&whole, r.text_as, r.int_as_bool, &[], &mut rows);
        let mut each = AggregateAcc::default();
        for v in rows {
            each.consider(v);
        }
        assert_eq!(
            (&at_once.min, &at_once.max),
            (&each.min, &each.max),
            "{:?}",
            r.text_as
        );
        assert_eq!(
            (&by_value.min, &by_value.max),
            (&each.min, &each.max),
            "{:?}",
            r.text_as
        );
        assert_ne!(each.min, each.max);
    }
}

#[test]
fn sql_extremes_of_integers_facing_a_boolean_are_used_only_when_they_decide() {
    let r = Read {
        int_as_bool: true,
        ..read(TextAs::Text)
    };
    // Buckets of 0/1 only: booleans.
    let mut bits = AggregateAcc::default();
    bits.add_sql("int", Some("1"), Some("0"), Some("1"), &r);
    bits.add_sql("int", Some("2"), Some("1"), Some("1"), &r);
    let shown = bits.finish(false);
    assert_eq!(
        (shown.min.as_deref(), shown.max.as_deref()),
        (Some("false"), Some("true"))
    );
    assert_eq!(shown.sum.as_deref(), Some("3"));
    // A bucket holding 0, 1 and 2 has SQL extremes 0 and 2: whether true is there is not
    // known, so no extremes are shown, whatever comes after; the sum still is.
    let mut bucket = AggregateAcc::default();
    bucket.add_sql("int", Some("3"), Some("0"), Some("2"), &r);
    let mut mixed = bucket.clone();
    mixed.merge(bits.clone());
    let shown = mixed.finish(false);
    assert_eq!((shown.min, shown.max), (None, None));
    assert_eq!(shown.sum.as_deref(), Some("6"));
    let mut other_way = bits;
    other_way.merge(bucket);
    assert_eq!(other_way.finish(false), mixed.finish(false));
    // And it survives being written down for a merge.
    let back = AggregateAcc::from_state(&mixed.state()).unwrap();
    assert_eq!(back, mixed);
}
