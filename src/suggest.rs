//! "Did you mean": the known name nearest to one typed wrongly (a region, a check ID), close
//! enough to be a typo rather than another name altogether.

/// The candidates nearest to `typed` (case-insensitive, a transposition counting as one
/// edit), when they are within a typo's distance: one edit for short names, about one per
/// four characters for longer ones. Several when they are equally near.
pub fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let typed = typed.trim().to_ascii_lowercase();
    if typed.is_empty() {
        return Vec::new();
    }
    let limit = (typed.chars().count() / 4).clamp(1, 3);
    let mut best: Vec<&str> = Vec::new();
    let mut best_distance = usize::MAX;
    let typed_len = typed.chars().count();
    for candidate in candidates {
        // The distance is at least the difference in length: a value pasted by mistake,
        // megabytes long, costs nothing to rule out.
        if typed_len.abs_diff(candidate.chars().count()) > limit {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&typed, &candidate.to_ascii_lowercase());
        if distance > limit || distance > best_distance {
            continue;
        }
        if distance < best_distance {
            best_distance = distance;
            best.clear();
        }
        if !best.contains(&candidate) {
            best.push(candidate);
        }
    }
    best
}

/// ` (did you mean `a`?)`, ` (did you mean `a` or `b`?)`, or nothing: to append to a message.
pub fn did_you_mean(near: &[&str]) -> String {
    match near {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        [first @ .., last] => {
            let firsts: Vec<String> = first.iter().map(|n| format!("`{n}`")).collect();
            format!(" (did you mean {} or `{last}`?)", firsts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_the_name_and_another_name_finds_nothing() {
        let regions = ["us-east-1", "us-east-2", "us-west-1", "eu-west-1"];
        assert_eq!(nearest("us-eats-1", regions), ["us-east-1"]);
        assert_eq!(nearest("US-EAST-1", regions), ["us-east-1"]);
        assert_eq!(nearest("us-east-3", regions), ["us-east-1", "us-east-2"]);
        assert!(nearest("ap-southeast-9", regions).is_empty());
        assert!(nearest("", regions).is_empty());
    }

    #[test]
    fn the_hint_lists_every_candidate() {
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["a"]), " (did you mean `a`?)");
        assert_eq!(
            did_you_mean(&["a", "b", "c"]),
            " (did you mean `a`, `b` or `c`?)"
        );
    }
}
