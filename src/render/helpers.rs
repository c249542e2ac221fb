//! Template helpers (mallhjälpare): values formatted per language, escaped for the markup.
//!
//! - `{{date term.start}}` → `1 mars 2027` / `1 March 2027`
//! - `{{money costs.estimate}}` → `12 500,00 kr` / `SEK 12,500.00` (öre in the data)
//! - `{{percent costs.vat_rate_bp}}` → `25 %` / `25%` (basis points in the data)
use chrono::NaiveDate;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};

use crate::domain::agreement::data::{format_date, format_percent_bp};
use crate::domain::agreement::markup::escape;
use crate::domain::lang::Lang;
use crate::domain::money::Money;

/// Our helpers' names, for `templates check`.
pub const CUSTOM_HELPERS: &[&str] = &["date", "money", "percent"];

#[derive(Clone, Copy)]
enum Kind {
    Date,
    Money,
    Percent,
}

struct Format {
    kind: Kind,
    lang: Lang,
}

fn bad(name: &'static str, why: &str) -> RenderError {
    RenderErrorReason::Other(format!("`{name}`: {why}")).into()
}

impl HelperDef for Format {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = match self.kind {
            Kind::Date => "date",
            Kind::Money => "money",
            Kind::Percent => "percent",
        };
        let param = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?;
        // Strict: a missing value is an error naming the field, never an empty hole.
        if param.is_value_missing() || param.value().is_null() {
            return Err(RenderErrorReason::MissingVariable(
                param
                    .relative_path()
                    .cloned()
                    .or_else(|| Some(name.to_string())),
            )
            .into());
        }
        let v = param.value();
        let text = match self.kind {
            Kind::Date => {
                let s = v.as_str().ok_or_else(|| bad(name, "expects a date"))?;
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| bad(name, "expects a date YYYY-MM-DD"))?;
                format_date(d, self.lang)
            }
            Kind::Money => {
                let ore = v
                    .as_i64()
                    .ok_or_else(|| bad(name, "expects an amount in öre"))?;
                Money::from_ore(ore)
                    .map_err(|e| bad(name, &e.to_string()))?
                    .format(self.lang)
            }
            Kind::Percent => {
                let bp = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad(name, "expects basis points"))?;
                format_percent_bp(bp, self.lang)
            }
        };
        out.write(&escape(&text))?;
        Ok(())
    }
}

/// Registers our helpers for one language.
pub fn register_helpers(hb: &mut Handlebars<'static>, lang: Lang) {
    hb.register_helper(
        "date",
        Box::new(Format {
            kind: Kind::Date,
            lang,
        }),
    );
    hb.register_helper(
        "money",
        Box::new(Format {
            kind: Kind::Money,
            lang,
        }),
    );
    hb.register_helper(
        "percent",
        Box::new(Format {
            kind: Kind::Percent,
            lang,
        }),
    );
}
