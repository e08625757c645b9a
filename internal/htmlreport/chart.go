package htmlreport

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ivrhq/ivr/internal/tabular"
)

// Kind is the way a chart draws its bars.
type Kind int

const (
	// Columns draws vertical bars along an ordered axis, such as days or hours.
	Columns Kind = iota
	// Bars draws horizontal bars, one per category, with the category's name
	// written in full on its left: for stages, menu options, answers, steps.
	Bars
)

// Chart says how to draw some columns of a section's rows as bars. The zero
// value is not usable: a chart needs at least one Label and one Series column.
type Chart struct {
	// ID names the chart on the page (the data-chart attribute of its bars);
	// it is unique within a page.
	ID string
	// Title heads the chart and is its accessible name.
	Title string
	// Kind is Columns (the zero value) or Bars.
	Kind Kind
	// Label names the columns whose cells, joined with " · ", name a bar.
	// Rows with the same name add up into one bar.
	Label []string
	// Series names the numeric columns drawn, each in its own colour of the
	// legend. Their cells must be numbers.
	Series []string
	// Stacked draws several series on top of one another, so that a bar is
	// their sum; otherwise they stand side by side.
	Stacked bool
	// Split names columns whose cells split the rows into one chart each (a
	// menu and its version), in the order they first appear. None: one chart.
	Split []string
	// Axis lists every bar name in order, so that a day or an hour without
	// rows shows as an empty place. Nil: the names in order of first
	// appearance; names that are not on the axis come after it.
	Axis []string
	// LabelTitle and ValueTitle name the axes: the categories and the counts.
	LabelTitle, ValueTitle string
	// Empty is the note shown instead of the chart when there is nothing to
	// draw (no rows, or only zeros). Empty "": the section's note.
	Empty string
}

// The palette: the eight colours of Okabe and Ito, told apart by people with
// any kind of colour blindness; series take them in order.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// Geometry, in SVG user units (pixels at 100%).
const (
	chartWidth = 960.0
	charWidth  = 6.6  // average width of a 12px sans-serif character
	lineHeight = 14.0 // height of a line of 12px text
	maxLabel   = 44   // bar names longer than this are cut, in full in the tooltip
	legendRow  = 24.0
	columnPlot = 220.0 // height of the plot of a Columns chart
	barRow     = 22.0  // height of one category of a Bars chart, one series
)

// chartView is one drawn chart: everything the template needs, in place.
type chartView struct {
	ID, Chart, Group string // unique element id, the Chart's ID, the split's name
	Title, Desc      string
	Empty            string // set: the note is shown instead of the drawing
	Width, Height    float64
	Plot             box
	Bars             []barView
	Ticks            []tickView
	Labels           []textView
	Values           []textView // the numbers written at the end of horizontal bars
	Legend           []legendView
	LabelTitle       textView
	ValueTitle       textView
	Table            *tableView // the plotted numbers, when bars sum several rows
}

// box is a rectangle.
type box struct{ X, Y, W, H float64 }

// barView is one drawn bar (one series of one category).
type barView struct {
	box
	Color, Label, Series, Value string
}

// tickView is a gridline of the value axis with its number.
type tickView struct {
	X1, Y1, X2, Y2 float64 // the gridline
	Text           textView
}

// textView is a piece of text at a place; Rotate turns it around that place.
type textView struct {
	X, Y   float64
	Rotate float64
	Anchor string // start, middle or end
	Text   string
	Full   string // the whole text when Text was cut
}

// legendView is one entry of the legend.
type legendView struct {
	Swatch box
	Color  string
	Text   textView
}

// category is one bar name with the sum of each series over its rows.
type category struct {
	name   string
	values []float64
	rows   int
}

// build draws c over rows: one view per split, in order of first appearance.
// empty is the note for a chart with nothing to draw. It fails when a column
// is missing or a series cell is not a number.
func (c Chart) build(rows tabular.Rows, empty string) ([]chartView, error) {
	if len(c.Label) == 0 || len(c.Series) == 0 {
		return nil, fmt.Errorf("chart %s: no label or series columns", c.ID)
	}
	if c.Empty != "" {
		empty = c.Empty
	}
	index := func(cols []string) ([]int, error) {
		idx := make([]int, len(cols))
		for i, name := range cols {
			idx[i] = slices.Index(rows.Columns, name)
			if idx[i] < 0 {
				return nil, fmt.Errorf("chart %s: no column %q", c.ID, name)
			}
		}
		return idx, nil
	}
	labelIdx, err := index(c.Label)
	if err != nil {
		return nil, err
	}
	seriesIdx, err := index(c.Series)
	if err != nil {
		return nil, err
	}
	splitIdx, err := index(c.Split)
	if err != nil {
		return nil, err
	}
	join := func(row []string, idx []int) string {
		parts := make([]string, len(idx))
		for i, j := range idx {
			parts[i] = row[j]
		}
		return strings.Join(parts, " · ")
	}
	splitName := func(row []string) string {
		parts := make([]string, len(splitIdx))
		for i, j := range splitIdx {
			parts[i] = c.Split[i] + " " + row[j]
		}
		return strings.Join(parts, ", ")
	}

	var groups []string
	cats := map[string][]*category{}
	byName := map[[2]string]*category{} // split and name
	for n, row := range rows.Data {
		g := splitName(row)
		if _, ok := cats[g]; !ok {
			groups = append(groups, g)
			cats[g] = make([]*category, len(c.Axis))
			for i, name := range c.Axis {
				cats[g][i] = &category{name: name, values: make([]float64, len(c.Series))}
				byName[[2]string{g, name}] = cats[g][i]
			}
		}
		name := join(row, labelIdx)
		k := byName[[2]string{g, name}]
		if k == nil {
			k = &category{name: name, values: make([]float64, len(c.Series))}
			byName[[2]string{g, name}] = k
			cats[g] = append(cats[g], k)
		}
		k.rows++
		for s, j := range seriesIdx {
			v, err := strconv.ParseFloat(row[j], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("chart %s: row %d, column %s: %q is not a number", c.ID, n+1, c.Series[s], row[j])
			}
			k.values[s] += v
		}
	}
	if len(groups) == 0 {
		return []chartView{{ID: c.ID, Chart: c.ID, Title: c.Title, Empty: empty}}, nil
	}
	views := make([]chartView, len(groups))
	for i, g := range groups {
		id := c.ID
		if len(groups) > 1 {
			id = fmt.Sprintf("%s-%d", c.ID, i+1)
		}
		views[i] = c.draw(id, g, cats[g], empty)
	}
	return views, nil
}

// draw lays out the categories of one split.
func (c Chart) draw(id, group string, cats []*category, empty string) chartView {
	v := chartView{ID: id, Chart: c.ID, Group: group, Title: c.Title}
	if group != "" {
		v.Title += ": " + group
	}
	top, integers := 0.0, true
	for _, k := range cats {
		sum := 0.0
		for _, x := range k.values {
			sum += x
			top = max(top, x)
			integers = integers && x == math.Trunc(x)
		}
		if c.Stacked {
			top = max(top, sum)
		}
	}
	if top <= 0 {
		v.Empty = empty
		return v
	}
	step, end := scale(top, integers)
	v.Desc = c.describe(cats)

	// The legend runs along the top.
	x := 0.0
	for s, name := range c.Series {
		text := seriesName(name)
		v.Legend = append(v.Legend, legendView{
			Swatch: box{X: x, Y: 4, W: 12, H: 12}, Color: color(s),
			Text: textView{X: x + 16, Y: 14, Anchor: "start", Text: text},
		})
		x += 16 + float64(utf8.RuneCountInString(text))*charWidth + 20
	}
	v.Width = chartWidth
	if c.Kind == Bars {
		v.layoutBars(c, cats, step, end)
	} else {
		v.layoutColumns(c, cats, step, end)
	}
	for _, k := range cats {
		if k.rows > 1 {
			v.Table = c.table(cats)
			break
		}
	}
	return v
}

// layoutColumns places vertical bars left to right, the value axis on the
// left and the names below, turned when they do not fit side by side.
func (v *chartView) layoutColumns(c Chart, cats []*category, step, end float64) {
	widest := 0
	for _, k := range cats {
		widest = max(widest, utf8.RuneCountInString(k.name))
	}
	left, right := 12+float64(len(format(end)))*charWidth+lineHeight+8, 12.0
	plotW := v.Width - left - right
	band := plotW / float64(len(cats))
	turned := float64(widest)*charWidth+6 > band
	every := 1 // write every n-th name so that they do not overlap
	if turned {
		every = int(math.Ceil(lineHeight / band))
	}
	below := lineHeight + 6
	if turned {
		below = float64(widest)*charWidth*math.Sqrt2/2 + lineHeight
	}
	v.Plot = box{X: left, Y: legendRow + 8, W: plotW, H: columnPlot}
	v.Height = v.Plot.Y + v.Plot.H + below + lineHeight + 10
	scale := v.Plot.H / end
	for i := 0.0; i*step <= end+step/2; i++ {
		t := i * step
		y := v.Plot.Y + v.Plot.H - t*scale
		v.Ticks = append(v.Ticks, tickView{X1: v.Plot.X, Y1: y, X2: v.Plot.X + v.Plot.W, Y2: y,
			Text: textView{X: v.Plot.X - 6, Y: y + 4, Anchor: "end", Text: tick(t, step)}})
	}
	barW := min(band*0.8, 48)
	for i, k := range cats {
		x0 := v.Plot.X + float64(i)*band + (band-barW)/2
		base := v.Plot.Y + v.Plot.H
		for s, val := range k.values {
			h := val * scale
			b := barView{Color: color(s), Label: k.name, Series: c.Series[s], Value: format(val)}
			if c.Stacked {
				base -= h
				b.box = box{X: x0, Y: base, W: barW, H: h}
			} else {
				w := barW / float64(len(k.values))
				b.box = box{X: x0 + float64(s)*w, Y: base - h, W: w, H: h}
			}
			v.Bars = append(v.Bars, b)
		}
		if i%every != 0 {
			continue
		}
		cx := v.Plot.X + (float64(i)+0.5)*band
		name, full := cut(k.name)
		t := textView{X: cx, Y: v.Plot.Y + v.Plot.H + lineHeight + 2, Anchor: "middle", Text: name, Full: full}
		if turned {
			t = textView{X: cx + 4, Y: v.Plot.Y + v.Plot.H + 10, Rotate: -45, Anchor: "end", Text: name, Full: full}
		}
		v.Labels = append(v.Labels, t)
	}
	v.LabelTitle = textView{X: v.Plot.X + v.Plot.W/2, Y: v.Height - 6, Anchor: "middle", Text: c.LabelTitle}
	ty := v.Plot.Y + v.Plot.H/2
	v.ValueTitle = textView{X: lineHeight, Y: ty, Rotate: -90, Anchor: "middle", Text: c.ValueTitle}
}

// layoutBars places horizontal bars top to bottom, their names on the left,
// their numbers at their end and the value axis below.
func (v *chartView) layoutBars(c Chart, cats []*category, step, end float64) {
	widest := 0
	for _, k := range cats {
		widest = max(widest, min(utf8.RuneCountInString(k.name), maxLabel+1))
	}
	left := 12 + float64(widest)*charWidth
	right := 12 + float64(len(format(end*float64(len(c.Series)))))*charWidth
	row := barRow
	if !c.Stacked {
		row = 8 + 14*float64(len(c.Series))
	}
	// The title of the names sits above them, below the legend.
	v.Plot = box{X: left, Y: legendRow + 8 + lineHeight, W: v.Width - left - right, H: row * float64(len(cats))}
	v.Height = v.Plot.Y + v.Plot.H + lineHeight + 6 + lineHeight + 10
	scale := v.Plot.W / end
	for i := 0.0; i*step <= end+step/2; i++ {
		t := i * step
		x := v.Plot.X + t*scale
		v.Ticks = append(v.Ticks, tickView{X1: x, Y1: v.Plot.Y, X2: x, Y2: v.Plot.Y + v.Plot.H,
			Text: textView{X: x, Y: v.Plot.Y + v.Plot.H + lineHeight + 2, Anchor: "middle", Text: tick(t, step)}})
	}
	barH := row - 6
	for i, k := range cats {
		y0 := v.Plot.Y + float64(i)*row + 3
		x := v.Plot.X
		total := 0.0
		for s, val := range k.values {
			w := val * scale
			b := barView{Color: color(s), Label: k.name, Series: c.Series[s], Value: format(val)}
			if c.Stacked {
				b.box = box{X: x, Y: y0, W: w, H: barH}
				x += w
				total += val
			} else {
				h := barH / float64(len(k.values))
				b.box = box{X: v.Plot.X, Y: y0 + float64(s)*h, W: w, H: h}
				v.Values = append(v.Values, textView{X: v.Plot.X + w + 4, Y: y0 + float64(s)*h + h/2 + 4, Anchor: "start", Text: format(val)})
			}
			v.Bars = append(v.Bars, b)
		}
		if c.Stacked {
			v.Values = append(v.Values, textView{X: x + 4, Y: y0 + barH/2 + 4, Anchor: "start", Text: format(total)})
		}
		name, full := cut(k.name)
		v.Labels = append(v.Labels, textView{X: v.Plot.X - 6, Y: y0 + barH/2 + 4, Anchor: "end", Text: name, Full: full})
	}
	v.LabelTitle = textView{X: 2, Y: v.Plot.Y - 6, Anchor: "start", Text: c.LabelTitle}
	v.ValueTitle = textView{X: v.Plot.X + v.Plot.W/2, Y: v.Height - 6, Anchor: "middle", Text: c.ValueTitle}
}

// describe is the chart's accessible description: what it shows and its
// largest bar.
func (c Chart) describe(cats []*category) string {
	kind := "Bar chart"
	if len(c.Series) > 1 && c.Stacked {
		kind = "Stacked bar chart"
	} else if len(c.Series) > 1 {
		kind = "Grouped bar chart"
	}
	names := make([]string, len(c.Series))
	for i, s := range c.Series {
		names[i] = seriesName(s)
	}
	best, bestSum := "", -1.0
	for _, k := range cats {
		sum := 0.0
		for _, x := range k.values {
			sum += x
		}
		if sum > bestSum {
			best, bestSum = k.name, sum
		}
	}
	by := c.LabelTitle
	if by == "" {
		by = strings.Join(c.Label, " and ")
	}
	if r, size := utf8.DecodeRuneInString(by); unicode.IsUpper(r) {
		by = string(unicode.ToLower(r)) + by[size:]
	}
	return fmt.Sprintf("%s of %s by %s, %d bars; the largest is %s with %s.",
		kind, strings.Join(names, ", "), by, len(cats), best, format(bestSum))
}

// table is the plotted numbers of cats as a table: the name, each series and,
// when stacked, the total.
func (c Chart) table(cats []*category) *tableView {
	t := &tableView{Columns: []columnView{{Name: c.LabelTitle}}}
	for _, s := range c.Series {
		t.Columns = append(t.Columns, columnView{Name: seriesName(s), Numeric: true})
	}
	total := c.Stacked && len(c.Series) > 1
	if total {
		t.Columns = append(t.Columns, columnView{Name: "total", Numeric: true})
	}
	for _, k := range cats {
		row := []string{k.name}
		sum := 0.0
		for _, x := range k.values {
			row = append(row, format(x))
			sum += x
		}
		if total {
			row = append(row, format(sum))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// scale picks the step of the value axis (1, 2 or 5 times a power of ten,
// about five steps, whole numbers for counts) and the axis's end, a multiple
// of the step at or above top.
func scale(top float64, integers bool) (step, end float64) {
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	if integers && step < 1 {
		step = 1
	}
	return step, math.Ceil(top/step-1e-9) * step
}

// format writes a number the way the reports do: no exponent, no trailing
// zeros.
func format(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// tick writes the number of a gridline with as many decimals as the step has.
func tick(t, step float64) string {
	return strconv.FormatFloat(t, 'f', max(0, int(-math.Floor(math.Log10(step)))), 64)
}

// seriesName is a column name for people: words instead of underscores.
func seriesName(col string) string { return strings.ReplaceAll(col, "_", " ") }

// color is the colour of the i-th series.
func color(i int) string { return palette[i%len(palette)] }

// cut shortens a bar name to maxLabel characters; full is the whole name when
// it was cut.
func cut(name string) (text, full string) {
	if utf8.RuneCountInString(name) <= maxLabel {
		return name, ""
	}
	r := []rune(name)
	return string(r[:maxLabel-1]) + "…", name
}
