//! Topic patterns of the generic mapping (`acme/{controller}/reader/{reader}/event`, with
//! `+` and `#`), the subscription filter each stands for, and the check of the plain
//! device topics the presets are configured with.

/// One level of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Literal(String),
    /// `{name}`: any one level, captured.
    Capture(String),
    /// `+`: any one level.
    Plus,
    /// `#`: the rest (zero or more levels); only last.
    Hash,
}

/// A compiled topic pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicPattern {
    levels: Vec<Level>,
}

impl TopicPattern {
    pub(crate) fn parse(s: &str) -> Result<TopicPattern, String> {
        check_chars(s)?;
        let mut levels = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let count = s.split('/').count();
        for (i, level) in s.split('/').enumerate() {
            levels.push(match level {
                "+" => Level::Plus,
                "#" if i + 1 == count => Level::Hash,
                "#" => return Err(format!("{s:?}: # is only allowed as the last level")),
                _ if level.starts_with('{') && level.ends_with('}') && level.len() > 2 => {
                    let name = level.get(1..level.len() - 1).unwrap_or_default();
                    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Err(format!(
                            "{s:?}: capture {level} must be a name of letters, digits and _"
                        ));
                    }
                    if name == "payload" {
                        return Err(format!(
                            "{s:?}: {{payload}} stands for the whole payload; give the topic level another name"
                        ));
                    }
                    if names.contains(&name) {
                        return Err(format!("{s:?}: {level} is captured twice"));
                    }
                    names.push(name);
                    Level::Capture(name.to_string())
                }
                _ if level.contains(['+', '#', '{', '}']) => {
                    return Err(format!(
                        "{s:?}: level {level:?} mixes text with + # {{ }}; a wildcard or capture must be a whole level"
                    ))
                }
                _ => Level::Literal(level.to_string()),
            });
        }
        Ok(TopicPattern { levels })
    }

    /// The subscription filter: captures become `+`.
    pub(crate) fn filter(&self) -> String {
        self.levels
            .iter()
            .map(|l| match l {
                Level::Literal(s) => s.as_str(),
                Level::Capture(_) | Level::Plus => "+",
                Level::Hash => "#",
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The names this pattern captures, in order.
    pub(crate) fn capture_names(&self) -> Vec<String> {
        self.levels
            .iter()
            .filter_map(|l| match l {
                Level::Capture(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// The captures, when `topic` matches (MQTT 3.1.1 §4.7: `a/#` also matches `a`;
    /// a wildcard in the first level does not match a `$` topic).
    pub(crate) fn matches(&self, topic: &str) -> Option<Vec<(String, String)>> {
        let mut captures = Vec::new();
        let mut parts = topic.split('/');
        for (i, level) in self.levels.iter().enumerate() {
            if let Level::Hash = level {
                if i == 0 && topic.starts_with('$') {
                    return None;
                }
                return Some(captures);
            }
            let part = parts.next()?;
            match level {
                Level::Literal(s) if s == part => {}
                Level::Literal(_) => return None,
                Level::Plus | Level::Capture(_) if i == 0 && part.starts_with('$') => return None,
                Level::Plus => {}
                Level::Capture(name) => captures.push((name.clone(), part.to_string())),
                Level::Hash => {}
            }
        }
        match parts.next() {
            None => Some(captures),
            Some(_) => None,
        }
    }
}

fn check_chars(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the topic must not be empty".into());
    }
    if s.len() > 1024 {
        return Err(format!("the topic is {} bytes long; at most 1024", s.len()));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{s:?} contains control characters"));
    }
    Ok(())
}

/// Checks a preset's `topic` (the device's own topic setting): text, no wildcards, no
/// trailing `/`.
pub(crate) fn check_device_topic(s: &str) -> Result<(), String> {
    check_chars(s)?;
    if s.contains(['+', '#', '{', '}']) {
        return Err(format!(
            "{s:?} contains + # {{ or }}; write the device's topic setting exactly, without wildcards"
        ));
    }
    if s.ends_with('/') {
        return Err(format!("{s:?} ends with /; write the topic without it"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn filters_and_captures() {
        let p = TopicPattern::parse("acme/{controller}/reader/{reader}/event").unwrap();
        assert_eq!(p.filter(), "acme/+/reader/+/event");
        assert_eq!(p.capture_names(), ["controller", "reader"]);
        assert_eq!(
            p.matches("acme/c1/reader/r1/event"),
            Some(vec![
                ("controller".into(), "c1".into()),
                ("reader".into(), "r1".into())
            ])
        );
        for no in [
            "acme/c1/reader/r1",
            "acme/c1/reader/r1/event/x",
            "acme/c1/writer/r1/event",
            "",
        ] {
            assert_eq!(p.matches(no), None, "{no:?}");
        }
    }

    #[test]
    fn wildcards() {
        let p = TopicPattern::parse("site/+/{door}/#").unwrap();
        assert_eq!(p.filter(), "site/+/+/#");
        assert_eq!(
            p.matches("site/a/d1"),
            Some(vec![("door".into(), "d1".into())])
        );
        assert_eq!(
            p.matches("site/a/d1/x/y"),
            Some(vec![("door".into(), "d1".into())])
        );
        assert_eq!(p.matches("site/a"), None);
        let all = TopicPattern::parse("#").unwrap();
        assert_eq!(all.matches("a/b"), Some(vec![]));
        assert_eq!(all.matches("$SYS/broker"), None);
        let plus = TopicPattern::parse("+/x").unwrap();
        assert_eq!(plus.matches("$SYS/x"), None);
        assert_eq!(plus.matches("a/x"), Some(vec![]));
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "a/#/b",
            "a/{x}/{x}",
            "a/{pay-load}",
            "a/{payload}",
            "a/door-{id}",
            "a/b+",
            "a/\u{0}",
        ] {
            assert!(TopicPattern::parse(bad).is_err(), "{bad:?}");
        }
        assert!(check_device_topic("esprfid").is_ok());
        assert!(check_device_topic("hospital/esprfid").is_ok());
        for bad in ["", "esp/+", "esp/#", "esp/", "{x}"] {
            assert!(check_device_topic(bad).is_err(), "{bad:?}");
        }
    }
}
