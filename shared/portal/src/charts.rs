//! Charts as SVG rendered on the server: a bar chart of one series over days or periods.
//! Each chart carries a text title for screen readers; the figures also stand in a table
//! on the statistics page.

use maud::{html, Markup};

/// One bar: its label (shown under every few bars) and value.
pub struct Bar {
    pub label: String,
    pub value: f64,
}

const W: f64 = 640.0;
const H: f64 = 180.0;
const PAD_L: f64 = 44.0;
const PAD_B: f64 = 24.0;
const PAD_T: f64 = 10.0;

fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= max {
            return m * mag;
        }
    }
    10.0 * mag
}

fn label_num(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A bar chart; `title` names it for assistive technology.
pub fn bars(title: &str, bars: &[Bar]) -> Markup {
    let max = nice_max(bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let n = bars.len().max(1) as f64;
    let plot_w = W - PAD_L - 4.0;
    let plot_h = H - PAD_B - PAD_T;
    let slot = plot_w / n;
    let bw = (slot * 0.8).max(1.0);
    let every = (bars.len() / 6).max(1);
    html! {
        svg class="chart" viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(title) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for i in 0..=4 {
                @let v = max * f64::from(i) / 4.0;
                @let y = PAD_T + plot_h - plot_h * f64::from(i) / 4.0;
                line x1=(PAD_L) x2=(W - 4.0) y1=(format!("{y:.1}")) y2=(format!("{y:.1}")) class="grid" {}
                text x=(PAD_L - 6.0) y=(format!("{:.1}", y + 4.0)) text-anchor="end" class="axis" { (label_num(v)) }
            }
            @for (i, b) in bars.iter().enumerate() {
                @let h = plot_h * (b.value / max);
                @let x = PAD_L + slot * i as f64 + (slot - bw) / 2.0;
                rect x=(format!("{x:.1}")) y=(format!("{:.1}", PAD_T + plot_h - h)) width=(format!("{bw:.1}")) height=(format!("{h:.1}")) class="bar" {
                    title { (b.label) ": " (label_num(b.value)) }
                }
                @if i % every == 0 {
                    text x=(format!("{:.1}", x + bw / 2.0)) y=(H - 6.0) text-anchor="middle" class="axis" { (b.label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_round_maximum() {
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(23.0), 25.0);
        assert_eq!(nice_max(0.0), 1.0);
        let svg = bars(
            "Hours",
            &[
                Bar {
                    label: "a".into(),
                    value: 5.0,
                },
                Bar {
                    label: "b".into(),
                    value: 10.0,
                },
            ],
        )
        .into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert!(svg.contains("aria-label=\"Hours\""));
    }
}
