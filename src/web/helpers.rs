//! The template helpers every page may use, each in the page's language (`@root.lang`):
//!
//! - `{{t "area.key" name=value}}`: a text from the page catalogues ([`super::text`]);
//! - `{{date "2027-03-01"}}`: `1 mars 2027` / `1 March 2027`;
//! - `{{datetime "2027-03-01T13:05:00Z"}}`: the time in Europe/Stockholm, `1 mars 2027 14:05`;
//! - `{{money 1250000}}`: öre as `12 500,00 kr` / `SEK 12,500.00`;
//! - `{{step_name "agreement"}}`: a step's name;
//! - `{{role_name "cpua_legal"}}`: a role's name.
//!
//! (Named so that no helper hides a field: `{{role}}` is always a field.)
//!
//! A value the helper cannot read is shown as given (never an error that loses the page).
use chrono::{DateTime, NaiveDate, Utc};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderError,
    RenderErrorReason,
};

use super::text;
use crate::domain::lang::Lang;
use crate::domain::money::Money;

fn lang_of(ctx: &Context) -> Lang {
    ctx.data()
        .get("lang")
        .and_then(|v| v.as_str())
        .and_then(Lang::parse)
        .unwrap_or_default()
}

fn param_str(h: &Helper, i: usize) -> Result<String, RenderError> {
    let v = h
        .param(i)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("helper", i))?;
    Ok(match v.value() {
        serde_json::Value::String(s) => s.clone(),
        other => other.render(),
    })
}

fn t_helper(
    h: &Helper,
    _: &Handlebars,
    ctx: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let key = param_str(h, 0)?;
    let params: Vec<(&str, String)> = h
        .hash()
        .iter()
        .map(|(k, v)| {
            let s = match v.value() {
                serde_json::Value::String(s) => s.clone(),
                other => other.render(),
            };
            (*k, s)
        })
        .collect();
    let s = text::t_with(lang_of(ctx), &key, &params);
    out.write(&handlebars::html_escape(&s))?;
    Ok(())
}

/// A date for people in the language.
pub fn format_date(d: NaiveDate, lang: Lang) -> String {
    crate::domain::agreement::data::format_date(d, lang)
}

/// A moment for people: the date and the time of day in Europe/Stockholm.
pub fn format_datetime(t: DateTime<Utc>, lang: Lang) -> String {
    let local = t.with_timezone(&chrono_tz::Europe::Stockholm);
    format!(
        "{} {}",
        format_date(local.date_naive(), lang),
        local.format("%H:%M")
    )
}

fn date_helper(
    h: &Helper,
    _: &Handlebars,
    ctx: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let s = param_str(h, 0)?;
    let lang = lang_of(ctx);
    let shown = match s.parse::<NaiveDate>() {
        Ok(d) => format_date(d, lang),
        Err(_) => match s.parse::<DateTime<Utc>>() {
            Ok(t) => format_date(
                t.with_timezone(&chrono_tz::Europe::Stockholm).date_naive(),
                lang,
            ),
            Err(_) => s,
        },
    };
    out.write(&handlebars::html_escape(&shown))?;
    Ok(())
}

fn datetime_helper(
    h: &Helper,
    _: &Handlebars,
    ctx: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let s = param_str(h, 0)?;
    let shown = match s.parse::<DateTime<Utc>>() {
        Ok(t) => format_datetime(t, lang_of(ctx)),
        Err(_) => s,
    };
    out.write(&handlebars::html_escape(&shown))?;
    Ok(())
}

fn money_helper(
    h: &Helper,
    _: &Handlebars,
    ctx: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let v = h
        .param(0)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("money", 0))?;
    let shown = match v.value().as_i64().map(Money::from_ore) {
        Some(Ok(m)) => m.format(lang_of(ctx)),
        _ => v.value().render(),
    };
    out.write(&handlebars::html_escape(&shown))?;
    Ok(())
}

fn prefixed_helper(prefix: &'static str) -> impl handlebars::HelperDef + Send + Sync + 'static {
    move |h: &Helper,
          _: &Handlebars,
          ctx: &Context,
          _: &mut RenderContext,
          out: &mut dyn Output|
          -> HelperResult {
        let code = param_str(h, 0)?;
        let s = text::t(lang_of(ctx), &format!("{prefix}{code}"));
        out.write(&handlebars::html_escape(&s))?;
        Ok(())
    }
}

/// Registers the helpers on a registry.
pub fn register(hb: &mut Handlebars) {
    hb.register_helper("t", Box::new(t_helper));
    hb.register_helper("date", Box::new(date_helper));
    hb.register_helper("datetime", Box::new(datetime_helper));
    hb.register_helper("money", Box::new(money_helper));
    hb.register_helper("step_name", Box::new(prefixed_helper("common.step.")));
    hb.register_helper("role_name", Box::new(prefixed_helper("common.role.")));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(src: &str, data: serde_json::Value) -> String {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        register(&mut hb);
        hb.render_template(src, &data).expect("renders")
    }

    #[test]
    fn dates_times_and_amounts_follow_the_language_and_stockholm_time() {
        let sv = json!({"lang": "sv", "d": "2027-03-01", "t": "2027-03-01T13:05:00Z",
                        "s": "2027-07-01T22:30:00Z", "m": 1_250_000});
        assert_eq!(render("{{date d}}", sv.clone()), "1 mars 2027");
        // Winter time is UTC+1, summer time UTC+2 (the date moves on at 22:30 UTC in July).
        assert_eq!(render("{{datetime t}}", sv.clone()), "1 mars 2027 14:05");
        assert_eq!(render("{{datetime s}}", sv.clone()), "2 juli 2027 00:30");
        assert_eq!(render("{{money m}}", sv), "12\u{a0}500,00\u{a0}kr");
        let en = json!({"lang": "en", "d": "2027-03-01", "m": 1_250_000});
        assert_eq!(render("{{date d}}", en.clone()), "1 March 2027");
        assert_eq!(render("{{money m}}", en), "SEK\u{a0}12,500.00");
    }

    #[test]
    fn texts_are_escaped_and_take_parameters() {
        let d = json!({"lang": "en", "n": "<b>7</b>"});
        assert_eq!(
            render("{{t \"common.list.count\" count=n}}", d),
            "&lt;b&gt;7&lt;/b&gt; collaborations"
        );
        assert_eq!(
            render("{{step_name \"agreement\"}}", json!({"lang": "sv"})),
            "Avtal"
        );
        assert_eq!(
            render("{{role_name \"cpua_legal\"}}", json!({"lang": "en"})),
            "CPUA legal team"
        );
    }

    #[test]
    fn an_unreadable_value_is_shown_as_given() {
        let d = json!({"lang": "sv", "d": "not a date", "m": "x"});
        assert_eq!(render("{{date d}}", d.clone()), "not a date");
        assert_eq!(render("{{money m}}", d), "x");
    }
}
