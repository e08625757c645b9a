// Package htmlreport renders report rows as one self-contained HTML page: a
// section per report with its summary, bar charts drawn as inline SVG, and the
// rows as a table below them. The page fetches nothing and runs no script: the
// styles are in the page, the charts are drawn here, in Go, with html/template,
// which also escapes every piece of text that comes from the data (callers'
// names, menu labels).
//
// A Chart names columns of a section's rows: the Label columns name the bars,
// the Series columns are the numbers, summed over the rows that share a name,
// and the Split columns make one chart per menu, version or route. Every bar
// is a <rect class="bar"> carrying data-label, data-series and data-value, the
// exact number it stands for, inside an <svg> with data-chart (and data-group
// for a split) and an accessible <title> and <desc>; a chart whose bars sum
// several rows has those sums as a table below it. A chart with nothing but
// zeros is a note instead ("No calls in this period."), never an empty frame.
//
//	err := htmlreport.Write(w, htmlreport.Page{
//		Title: "IVR report", From: from, To: to, Generated: time.Now(),
//		Sections: []htmlreport.Section{{
//			ID: "funnel", Title: "funnel", Summary: "how far callers get", Rows: rows,
//			Charts: []htmlreport.Chart{{ID: "funnel", Title: "Calls per stage", Kind: htmlreport.Bars,
//				Label: []string{"stage"}, Series: []string{"calls"}, LabelTitle: "Stage", ValueTitle: "Calls"}},
//		}},
//	})
package htmlreport
