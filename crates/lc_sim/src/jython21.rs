//! Refuses what Jython 2.1 (WebSphere 8.5.5's default) does not have (admin-surface.md §2), so that a
//! script that only works on the stand-in's Jython 2.7 is caught here rather than on a customer's
//! Deployment Manager: `with`, conditional expressions, generator expressions, dict/set
//! comprehensions, `True`/`False`, `sorted`, `set`, `json`, `except … as …`, decorators.

/// A construct Jython 2.1 lacks, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub construct: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Open(char),
    Close,
    Colon,
    Dot,
    At,
    Other,
    /// The start of a logical line (after a newline outside brackets).
    LineStart,
}

/// Splits Python source into the few tokens the checks need, dropping strings and comments.
fn tokens(src: &str) -> Vec<(usize, Tok)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = vec![(1, Tok::LineStart)];
    let mut line = 1;
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                if depth == 0 && !(i > 0 && chars[i - 1] == '\\') {
                    out.push((line, Tok::LineStart));
                }
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' | '"' => {
                let triple = i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c;
                let raw = i > 0 && matches!(chars[i - 1], 'r' | 'R');
                i += if triple { 3 } else { 1 };
                while i < chars.len() {
                    if chars[i] == '\\' && !raw {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\\' && raw {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                        if !triple {
                            break;
                        }
                    }
                    if chars[i] == c {
                        if !triple {
                            i += 1;
                            break;
                        }
                        if i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c {
                            i += 3;
                            break;
                        }
                    }
                    i += 1;
                }
                out.push((line, Tok::Other));
            }
            '(' | '[' | '{' => {
                depth += 1;
                out.push((line, Tok::Open(c)));
                i += 1;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                out.push((line, Tok::Close));
                i += 1;
            }
            ':' => {
                out.push((line, Tok::Colon));
                i += 1;
            }
            '.' => {
                out.push((line, Tok::Dot));
                i += 1;
            }
            '@' => {
                out.push((line, Tok::At));
                i += 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                // A string prefix (r"", u"", b"") is not a word.
                if i < chars.len() && matches!(chars[i], '\'' | '"') && i - start <= 2 {
                    continue;
                }
                out.push((line, Tok::Word(chars[start..i].iter().collect())));
            }
            _ => {
                if !c.is_whitespace() {
                    out.push((line, Tok::Other));
                }
                i += 1;
            }
        }
    }
    out
}

/// Every construct Jython 2.1 lacks in `src`, in order.
pub fn check(src: &str) -> Vec<Finding> {
    let toks = tokens(src);
    let mut found = Vec::new();
    let mut add = |line: usize, construct: &'static str| {
        if !found
            .iter()
            .any(|f: &Finding| f.line == line && f.construct == construct)
        {
            found.push(Finding { line, construct });
        }
    };
    // Bracket stack of open chars, and for each logical line its first word.
    let mut stack: Vec<char> = Vec::new();
    let mut first_word: Option<String> = None;
    let mut at_start = true;
    let mut seen_if_in_expr: Vec<usize> = Vec::new();
    for (k, (line, t)) in toks.iter().enumerate() {
        let prev = if k > 0 { Some(&toks[k - 1].1) } else { None };
        let next = toks.get(k + 1).map(|x| &x.1);
        match t {
            Tok::LineStart => {
                at_start = true;
                first_word = None;
                stack.clear();
                seen_if_in_expr.clear();
                continue;
            }
            Tok::Open(c) => stack.push(*c),
            Tok::Close => {
                stack.pop();
            }
            Tok::At if at_start => add(*line, "a decorator (@…)"),
            Tok::Word(w) => {
                let after_dot = matches!(prev, Some(Tok::Dot));
                if at_start {
                    first_word = Some(w.clone());
                    if w == "with" && !matches!(next, Some(Tok::Open('(')) | Some(Tok::Dot)) {
                        add(*line, "the with statement");
                    }
                }
                match w.as_str() {
                    "True" | "False" if !after_dot => add(*line, "True/False"),
                    "sorted" if !after_dot => add(*line, "sorted()"),
                    "set" | "frozenset" if !after_dot && matches!(next, Some(Tok::Open('('))) => {
                        add(*line, "set()")
                    }
                    "json" if !after_dot => {
                        if matches!(first_word.as_deref(), Some("import") | Some("from")) {
                            add(*line, "the json module");
                        }
                    }
                    "as" if first_word.as_deref() == Some("except") => add(*line, "except … as …"),
                    "for" if !stack.is_empty() => match stack.last() {
                        Some('(') => add(*line, "a generator expression"),
                        Some('{') => add(*line, "a dict or set comprehension"),
                        _ => {}
                    },
                    "if" if !at_start => seen_if_in_expr.push(stack.len()),
                    // `x if c else y` inside an expression (a plain `else:` starts its statement).
                    "else" if !at_start && !seen_if_in_expr.is_empty() => {
                        add(*line, "a conditional expression (x if c else y)")
                    }
                    _ => {}
                }
            }
            Tok::Colon if stack.is_empty() => {
                // `if c: x = 1` — what follows a block colon is a new statement.
                at_start = true;
                first_word = None;
                seen_if_in_expr.clear();
                continue;
            }
            _ => {}
        }
        at_start = false;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constructs(src: &str) -> Vec<(usize, &'static str)> {
        check(src)
            .into_iter()
            .map(|f| (f.line, f.construct))
            .collect()
    }

    #[test]
    fn plain_jython_21_passes() {
        let src = r#"
import sys
execfile("communitiesAdmin.py")
batchMode = 1
x = [a for a in sys.argv if a]
if len(x) > 0:
    print "yes"
else:
    print "no"
try:
    n = CommunitiesScheduler.getTaskDetails("LifecycleRetryQueuedEvents")
except NameError, e:
    print "with True and sorted in a string", 'set(x)'
d = {"a": 1}
for k in d.keys(): print k
while 1:
    break
obj.set(1)
s = """ a if b else c
for x in (y for y in z) """
"#;
        assert_eq!(constructs(src), vec![]);
    }

    #[test]
    fn finds_each_missing_construct() {
        assert_eq!(
            constructs("with open('f') as f:\n    pass\n"),
            vec![(1, "the with statement")]
        );
        assert_eq!(
            constructs("x = 1\ny = a if b else c\n"),
            vec![(2, "a conditional expression (x if c else y)")]
        );
        assert_eq!(
            constructs("n = sum(len(a) for a in b)\n"),
            vec![(1, "a generator expression")]
        );
        assert_eq!(constructs("ok = True\n"), vec![(1, "True/False")]);
        assert_eq!(
            constructs("for k in sorted(d):\n  pass\n"),
            vec![(1, "sorted()")]
        );
        assert_eq!(constructs("s = set([1])\n"), vec![(1, "set()")]);
        assert_eq!(constructs("import json\n"), vec![(1, "the json module")]);
        assert_eq!(
            constructs("from json import dumps\n"),
            vec![(1, "the json module")]
        );
        assert_eq!(
            constructs("try:\n  x()\nexcept Exception as e:\n  pass\n"),
            vec![(3, "except … as …")]
        );
        assert_eq!(
            constructs("d = {k: 1 for k in x}\n"),
            vec![(1, "a dict or set comprehension")]
        );
        assert_eq!(
            constructs("@staticmethod\ndef f(): pass\n"),
            vec![(1, "a decorator (@…)")]
        );
        assert_eq!(
            constructs("if a: x = b if c else d\n"),
            vec![(1, "a conditional expression (x if c else y)")]
        );
        assert_eq!(
            constructs("print [b if c else d for b in e]\n"),
            vec![(1, "a conditional expression (x if c else y)")]
        );
    }
}
