//! The smallest crowd: how many enterprises must stand behind what anyone but the 营商办 reads of
//! a unit's answers.

/// The fewest raters (or commenters) a unit's stored answers may form in one campaign before
/// they are shown to anyone but the 营商办: a unit's comments appear only when at least this many
/// enterprises commented on it in the campaign, and its answer distribution only when at least
/// this many rated it. Fewer could be told apart by a unit that knows whom it served. The
/// sealed-ballot close uses the same number for the answers it keeps.
pub const MIN_CROWD: usize = 5;
