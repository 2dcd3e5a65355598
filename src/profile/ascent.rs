//! Whether a column rises strictly, with no NULL, from its first row: such a column holds no
//! value twice, at any size, known for certain rather than by hash.

/// Tracks whether an integer-like column's values ascend strictly with no NULL, from the first
/// row on: such a column holds no value twice, at any size (it is a key, and no two rows of its
/// table are the same), known for certain rather than by hash.
#[derive(Clone, Default)]
pub struct Ascent {
    broken: bool,
    first: Option<i128>,
    last: Option<i128>,
}

impl Ascent {
    /// Whether the values so far (one at least) ascend strictly with no NULL.
    pub fn holds(&self) -> bool {
        !self.broken && self.first.is_some()
    }

    /// The column holds a NULL, or a value of a kind that is not tracked.
    pub(super) fn breaks(&mut self) {
        self.broken = true;
    }

    /// The next values, in row order.
    pub(super) fn add(&mut self, values: impl Iterator<Item = i128>) {
        if self.broken {
            return;
        }
        for v in values {
            if self.last.is_some_and(|l| l >= v) {
                self.broken = true;
                return;
            }
            self.first.get_or_insert(v);
            self.last = Some(v);
        }
    }

    /// The values of `o`, which come after these.
    pub(super) fn merge(&mut self, o: &Ascent) {
        self.broken |= o.broken;
        if let (Some(l), Some(f)) = (self.last, o.first) {
            self.broken |= l >= f;
        }
        self.first = self.first.or(o.first);
        self.last = o.last.or(self.last);
    }
}
