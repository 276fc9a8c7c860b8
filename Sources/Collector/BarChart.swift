import Formats
import FoundationEssentials

/// A horizontal bar chart as a self-contained SVG file (no scripts, no external fonts), for
/// `results/`. Bars are scaled linearly to the largest value; each carries its value.
public struct BarChart: Sendable {
    public var title: String
    public var subtitle: String
    public var unit: String
    public var bars: [(label: String, value: Double)]

    public init(title: String, subtitle: String, unit: String, bars: [(label: String, value: Double)]) {
        self.title = title
        self.subtitle = subtitle
        self.unit = unit
        self.bars = bars
    }

    public var svg: String {
        let labelWidth = 8 * (bars.map(\.label.count).max() ?? 10) + 20
        let plotWidth = 520, barHeight = 22, gap = 10, top = 64
        let width = labelWidth + plotWidth + 110
        let height = top + bars.count * (barHeight + gap) + 30
        let maximum = max(bars.map(\.value).max() ?? 0, .leastNonzeroMagnitude)
        var parts = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
            #"<text x="16" y="26" font-size="16" font-weight="bold">\#(escape(title))</text>"#,
            #"<text x="16" y="46" fill="dimgray">\#(escape(subtitle))</text>"#,
        ]
        for (index, bar) in bars.enumerated() {
            let y = top + index * (barHeight + gap)
            let length = Int((Double(plotWidth) * bar.value / maximum).rounded())
            parts.append(#"<text x="\#(labelWidth - 8)" y="\#(y + 16)" text-anchor="end">\#(escape(bar.label))</text>"#)
            parts.append(#"<rect x="\#(labelWidth)" y="\#(y)" width="\#(max(length, 1))" height="\#(barHeight)" fill="steelblue"/>"#)
            parts.append(#"<text x="\#(labelWidth + max(length, 1) + 6)" y="\#(y + 16)">\#(format(bar.value))\#(escape(unit))</text>"#)
        }
        parts.append(#"<line x1="\#(labelWidth)" y1="\#(top - 6)" x2="\#(labelWidth)" y2="\#(height - 24)" stroke="black"/>"#)
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    private func format(_ value: Double) -> String {
        value >= 100 ? cFormat("%.0f", value) : cFormat("%.2f", value)
    }

    private func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
            .replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
