//! Rule conditions (villkor): a small language over the intake facts, compiled once at load time and
//! evaluated in three-valued (Kleene) logic so that a missing fact gives "unknown", never a guess.
//!
//! ```text
//! expr   := term ("or" term)*                       -- any
//! term   := factor ("and" factor)*                  -- all
//! factor := "not" factor | "(" expr ")" | atom      -- not
//! atom   := fact "=" value | fact "!=" value
//!         | fact "in" "[" value, ... "]" | fact "not" "in" "[" ... "]"
//!         | linkage_with "contains" value | linkage_with "contains_any" "[" ... "]"
//!         | key_retention_months ("<"|"<="|">"|">="|"="|"!=") number
//!         | "empty(" list_fact ")" | "outside_eu_eea(recipient_countries)"
//!         | "distinct_cpuas(registers)" op number
//! ```
use super::facts::{FactEnum, FactId, LinkageAuthority};

/// "Not given" in an [`Env`] slot.
pub(crate) const MISSING: u32 = u32::MAX;

/// Country slot values: no recipient country, only EU/EEA countries, at least one third country.
pub(crate) const COUNTRIES_NONE: u32 = 0;
pub(crate) const COUNTRIES_EU_EEA: u32 = 1;
pub(crate) const COUNTRIES_OUTSIDE: u32 = 2;

/// The facts as evaluation sees them: one number per fact, `MISSING` when not given.
/// Scalar facts hold their value index; `linkage_with` a bit mask; `recipient_countries` one of the
/// `COUNTRIES_*` values; `registers` the number of distinct CPUAs; `key_retention_months` the months.
pub(crate) type Env = [u32; 14];

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    False,
    True,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    fn apply(self, a: u32, b: u32) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// Scalar fact's value index is in the bit mask.
    InSet {
        fact: FactId,
        mask: u32,
    },
    /// `linkage_with` shares a member with the mask.
    LinkAny {
        mask: u32,
    },
    /// A list fact is empty.
    Empty(FactId),
    /// Some recipient country lies outside the EU/EEA.
    OutsideEea,
    /// Number comparison (`key_retention_months`, or distinct CPUAs of `registers`).
    Cmp {
        fact: FactId,
        op: CmpOp,
        value: u32,
    },
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    /// Evaluates in Kleene logic. With `Unknown`, the mask names the missing facts that made it so.
    #[inline]
    pub(crate) fn eval(&self, env: &Env) -> (Tri, u16) {
        match self {
            Cond::InSet { fact, mask } => leaf(env, *fact, |v| mask & (1u32 << v) != 0),
            Cond::LinkAny { mask } => leaf(env, FactId::LinkageWith, |v| v & mask != 0),
            Cond::Empty(fact) => leaf(env, *fact, |v| v == 0),
            Cond::OutsideEea => leaf(env, FactId::RecipientCountries, |v| v == COUNTRIES_OUTSIDE),
            Cond::Cmp { fact, op, value } => leaf(env, *fact, |v| op.apply(v, *value)),
            Cond::All(cs) => {
                let mut unknown = 0u16;
                let mut any_unknown = false;
                for c in cs {
                    match c.eval(env) {
                        (Tri::False, _) => return (Tri::False, 0),
                        (Tri::Unknown, m) => {
                            any_unknown = true;
                            unknown |= m;
                        }
                        (Tri::True, _) => {}
                    }
                }
                if any_unknown {
                    (Tri::Unknown, unknown)
                } else {
                    (Tri::True, 0)
                }
            }
            Cond::Any(cs) => {
                let mut unknown = 0u16;
                let mut any_unknown = false;
                for c in cs {
                    match c.eval(env) {
                        (Tri::True, _) => return (Tri::True, 0),
                        (Tri::Unknown, m) => {
                            any_unknown = true;
                            unknown |= m;
                        }
                        (Tri::False, _) => {}
                    }
                }
                if any_unknown {
                    (Tri::Unknown, unknown)
                } else {
                    (Tri::False, 0)
                }
            }
            Cond::Not(c) => match c.eval(env) {
                (Tri::True, _) => (Tri::False, 0),
                (Tri::False, _) => (Tri::True, 0),
                u => u,
            },
        }
    }

    /// The facts the condition reads, as a bit mask over [`FactId`].
    pub(crate) fn fact_mask(&self) -> u16 {
        match self {
            Cond::InSet { fact, .. } | Cond::Empty(fact) | Cond::Cmp { fact, .. } => fact.bit(),
            Cond::LinkAny { .. } => FactId::LinkageWith.bit(),
            Cond::OutsideEea => FactId::RecipientCountries.bit(),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().fold(0, |m, c| m | c.fact_mask()),
            Cond::Not(c) => c.fact_mask(),
        }
    }

    /// Numeric constants compared against each fact, to build representative value domains.
    pub(crate) fn constants(&self, out: &mut Vec<(FactId, u32)>) {
        match self {
            Cond::Cmp { fact, value, .. } => out.push((*fact, *value)),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| c.constants(out)),
            Cond::Not(c) => c.constants(out),
            _ => {}
        }
    }
}

#[inline]
fn leaf(env: &Env, fact: FactId, test: impl FnOnce(u32) -> bool) -> (Tri, u16) {
    let v = env[fact as usize];
    if v == MISSING {
        (Tri::Unknown, fact.bit())
    } else if test(v) {
        (Tri::True, 0)
    } else {
        (Tri::False, 0)
    }
}

/// The representative values of each fact for exhaustive checks: every value of a closed set, every
/// subset of `linkage_with`, the three country situations, and numbers around each constant compared.
pub(crate) fn domains(constants: &[(FactId, u32)]) -> Vec<Vec<u32>> {
    FactId::ALL
        .iter()
        .map(|&f| {
            if let Some(names) = f.value_names() {
                return (0..names.len() as u32).collect();
            }
            match f {
                FactId::LinkageWith => (0..(1u32 << LinkageAuthority::NAMES.len())).collect(),
                FactId::RecipientCountries => {
                    vec![COUNTRIES_NONE, COUNTRIES_EU_EEA, COUNTRIES_OUTSIDE]
                }
                _ => {
                    let mut v: Vec<u32> = if f == FactId::Registers {
                        vec![0, 1, 2]
                    } else {
                        vec![0]
                    };
                    for &(cf, c) in constants {
                        if cf == f {
                            v.push(c.saturating_sub(1));
                            v.push(c);
                            v.push(c.saturating_add(1).min(MISSING - 1));
                        }
                    }
                    v.sort_unstable();
                    v.dedup();
                    v
                }
            }
        })
        .collect()
}

/// A parse error at a byte offset of the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub pos: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(u32),
    Sym(&'static str),
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            out.push((st, Tok::Ident(s[st..i].to_string())));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n = s[st..i].parse::<u32>().map_err(|_| ParseError {
                pos: st,
                message: format!("number `{}` is too large", &s[st..i]),
            })?;
            out.push((st, Tok::Num(n)));
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            let sym: &'static str = match two {
                "!=" => "!=",
                "<=" => "<=",
                ">=" => ">=",
                "==" => "=",
                _ => match c {
                    b'=' => "=",
                    b'<' => "<",
                    b'>' => ">",
                    b'(' => "(",
                    b')' => ")",
                    b'[' => "[",
                    b']' => "]",
                    b',' => ",",
                    _ => {
                        return Err(ParseError {
                            pos: i,
                            message: format!(
                                "unexpected character `{}`",
                                s[i..].chars().next().unwrap_or('?')
                            ),
                        })
                    }
                },
            };
            out.push((i, Tok::Sym(sym)));
            i += if matches!(two, "!=" | "<=" | ">=" | "==") {
                2
            } else {
                1
            };
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    len: usize,
}

/// Parses and compiles a condition.
pub(crate) fn parse(src: &str) -> Result<Cond, ParseError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(ParseError {
            pos: 0,
            message: "empty condition".into(),
        });
    }
    let mut p = Parser {
        toks,
        i: 0,
        len: src.len(),
    };
    let c = p.expr()?;
    if p.i < p.toks.len() {
        return Err(p.error("expected `and`, `or` or the end of the condition"));
    }
    Ok(c)
}

impl Parser {
    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|t| t.0).unwrap_or(self.len)
    }
    fn error(&self, m: impl Into<String>) -> ParseError {
        ParseError {
            pos: self.pos(),
            message: m.into(),
        }
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == w)
    }
    fn is_sym(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(s)) if *s == w)
    }
    fn expect_sym(&mut self, w: &str) -> Result<(), ParseError> {
        if self.is_sym(w) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{w}`")))
        }
    }
    fn ident(&mut self, what: &str) -> Result<(usize, String), ParseError> {
        match self.toks.get(self.i) {
            Some((p, Tok::Ident(s))) => {
                let r = (*p, s.clone());
                self.i += 1;
                Ok(r)
            }
            _ => Err(self.error(format!("expected {what}"))),
        }
    }
    fn number(&mut self) -> Result<u32, ParseError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let n = *n;
                self.i += 1;
                Ok(n)
            }
            _ => Err(self.error("expected a whole number")),
        }
    }

    fn expr(&mut self) -> Result<Cond, ParseError> {
        let mut parts = vec![self.term()?];
        while self.is_word("or") {
            self.i += 1;
            parts.push(self.term()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Any(parts)
        })
    }

    fn term(&mut self) -> Result<Cond, ParseError> {
        let mut parts = vec![self.factor()?];
        while self.is_word("and") {
            self.i += 1;
            parts.push(self.factor()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::All(parts)
        })
    }

    fn factor(&mut self) -> Result<Cond, ParseError> {
        if self.is_word("not") {
            self.i += 1;
            return Ok(Cond::Not(Box::new(self.factor()?)));
        }
        if self.is_sym("(") {
            self.i += 1;
            let c = self.expr()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        self.atom()
    }

    fn fact(&mut self) -> Result<FactId, ParseError> {
        let (p, name) = self.ident("a fact name")?;
        FactId::from_name(&name).ok_or(ParseError {
            pos: p,
            message: format!("unknown fact `{name}`"),
        })
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        let op = match self.peek() {
            Some(Tok::Sym("<")) => CmpOp::Lt,
            Some(Tok::Sym("<=")) => CmpOp::Le,
            Some(Tok::Sym(">")) => CmpOp::Gt,
            Some(Tok::Sym(">=")) => CmpOp::Ge,
            Some(Tok::Sym("=")) => CmpOp::Eq,
            Some(Tok::Sym("!=")) => CmpOp::Ne,
            _ => return None,
        };
        self.i += 1;
        Some(op)
    }

    fn atom(&mut self) -> Result<Cond, ParseError> {
        let start = self.pos();
        let (p, word) = self.ident("a fact name, `not` or `(`")?;
        // Function forms over list facts.
        if matches!(word.as_str(), "empty" | "outside_eu_eea" | "distinct_cpuas") {
            self.expect_sym("(")?;
            let fp = self.pos();
            let fact = self.fact()?;
            self.expect_sym(")")?;
            let bad = |need: &str| ParseError {
                pos: fp,
                message: format!("`{word}(…)` applies to {need}, not `{fact}`"),
            };
            return match word.as_str() {
                "empty" => {
                    if matches!(
                        fact,
                        FactId::Registers | FactId::LinkageWith | FactId::RecipientCountries
                    ) {
                        Ok(Cond::Empty(fact))
                    } else {
                        Err(bad(
                            "a list fact (registers, linkage_with, recipient_countries)",
                        ))
                    }
                }
                "outside_eu_eea" => {
                    if fact == FactId::RecipientCountries {
                        Ok(Cond::OutsideEea)
                    } else {
                        Err(bad("recipient_countries"))
                    }
                }
                _ => {
                    if fact != FactId::Registers {
                        return Err(bad("registers"));
                    }
                    let op = self
                        .cmp_op()
                        .ok_or_else(|| self.error("expected a comparison (<, <=, >, >=, =, !=)"))?;
                    let value = self.number()?;
                    Ok(Cond::Cmp { fact, op, value })
                }
            };
        }
        let fact = FactId::from_name(&word).ok_or(ParseError {
            pos: p,
            message: format!("unknown fact `{word}`"),
        })?;
        if let Some(names) = fact.value_names() {
            // Scalar fact: =, !=, in, not in.
            let value_index = |(vp, v): (usize, String)| -> Result<u32, ParseError> {
                names
                    .iter()
                    .position(|n| *n == v)
                    .map(|i| i as u32)
                    .ok_or(ParseError {
                        pos: vp,
                        message: format!(
                            "unknown value `{v}` for fact `{fact}`; expected one of: {}",
                            names.join(", ")
                        ),
                    })
            };
            let all = (1u32 << names.len()) - 1;
            if self.is_sym("=") || self.is_sym("!=") {
                let negate = self.is_sym("!=");
                self.i += 1;
                let v = self.ident("a value")?;
                let bit = 1u32 << value_index(v)?;
                let mask = if negate { all & !bit } else { bit };
                return Ok(Cond::InSet { fact, mask });
            }
            let negate = self.is_word("not");
            if negate {
                self.i += 1;
            }
            if self.is_word("in") {
                self.i += 1;
                let mut mask = 0u32;
                for v in self.list()? {
                    mask |= 1u32 << value_index(v)?;
                }
                let mask = if negate { all & !mask } else { mask };
                return Ok(Cond::InSet { fact, mask });
            }
            return Err(self.error(format!(
                "expected `=`, `!=`, `in` or `not in` after `{fact}`"
            )));
        }
        match fact {
            FactId::LinkageWith => {
                let value_bit = |(vp, v): (usize, String)| -> Result<u32, ParseError> {
                    LinkageAuthority::from_name(&v)
                        .map(|a| 1u32 << a.index())
                        .ok_or(ParseError {
                            pos: vp,
                            message: format!(
                                "unknown value `{v}` for fact `linkage_with`; expected one of: {}",
                                LinkageAuthority::NAMES.join(", ")
                            ),
                        })
                };
                if self.is_word("contains") {
                    self.i += 1;
                    let v = self.ident("a value")?;
                    return Ok(Cond::LinkAny {
                        mask: value_bit(v)?,
                    });
                }
                if self.is_word("contains_any") {
                    self.i += 1;
                    let mut mask = 0;
                    for v in self.list()? {
                        mask |= value_bit(v)?;
                    }
                    return Ok(Cond::LinkAny { mask });
                }
                Err(self.error("expected `contains` or `contains_any` after `linkage_with`"))
            }
            FactId::KeyRetentionMonths => {
                let op = self
                    .cmp_op()
                    .ok_or_else(|| self.error("expected a comparison (<, <=, >, >=, =, !=)"))?;
                let value = self.number()?;
                Ok(Cond::Cmp { fact, op, value })
            }
            _ => Err(ParseError {
                pos: start,
                message: format!(
                    "fact `{fact}` is tested with empty({fact}){}",
                    match fact {
                        FactId::RecipientCountries => " or outside_eu_eea(recipient_countries)",
                        FactId::Registers => " or distinct_cpuas(registers) > N",
                        _ => "",
                    }
                ),
            }),
        }
    }

    fn list(&mut self) -> Result<Vec<(usize, String)>, ParseError> {
        self.expect_sym("[")?;
        let mut out = vec![self.ident("a value")?];
        while self.is_sym(",") {
            self.i += 1;
            if self.is_sym("]") {
                break;
            }
            out.push(self.ident("a value")?);
        }
        self.expect_sym("]")?;
        Ok(out)
    }
}

/// An empty environment: every fact missing.
pub(crate) const EMPTY_ENV: Env = [MISSING; 14];

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(FactId, u32)]) -> Env {
        let mut e = EMPTY_ENV;
        for (f, v) in pairs {
            e[*f as usize] = *v;
        }
        e
    }

    #[test]
    fn parses_and_evaluates_in_kleene_logic() {
        let c = parse("is_research = yes and (principal_receives in [pseudonymised, identifiable] or company_receives != nothing)")
            .expect("parses");
        let e = env(&[(FactId::IsResearch, 0), (FactId::PrincipalReceives, 2)]);
        assert_eq!(c.eval(&e).0, Tri::True);
        let e = env(&[(FactId::IsResearch, 0), (FactId::PrincipalReceives, 1)]);
        assert_eq!(c.eval(&e), (Tri::Unknown, FactId::CompanyReceives.bit()));
        let e = env(&[(FactId::IsResearch, 1)]);
        assert_eq!(c.eval(&e).0, Tri::False);
    }

    #[test]
    fn list_and_number_forms() {
        let c = parse("not empty(linkage_with) and linkage_with contains scb").expect("parses");
        assert_eq!(c.eval(&env(&[(FactId::LinkageWith, 2)])).0, Tri::True);
        assert_eq!(c.eval(&env(&[(FactId::LinkageWith, 1)])).0, Tri::False);
        let c = parse("outside_eu_eea(recipient_countries) or key_retention_months > 3 or distinct_cpuas(registers) >= 2")
            .expect("parses");
        assert_eq!(
            c.eval(&env(&[(FactId::RecipientCountries, 2)])).0,
            Tri::True
        );
        assert_eq!(
            c.eval(&env(&[
                (FactId::RecipientCountries, 1),
                (FactId::KeyRetentionMonths, 3),
                (FactId::Registers, 1)
            ]))
            .0,
            Tri::False
        );
    }

    #[test]
    fn reports_unknown_facts_and_values_with_position() {
        let e = parse("is_research = yes and colour = red").unwrap_err();
        assert_eq!(e.pos, 22);
        assert!(e.message.contains("unknown fact `colour`"));
        let e = parse("purpose = fun").unwrap_err();
        assert!(e.message.contains("unknown value `fun`"));
        assert!(parse("key_retention_months > x").is_err());
        assert!(parse("registers = x").is_err());
        assert!(parse("").is_err());
        assert!(parse("is_research = yes and").is_err());
    }
}
