package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Paint;
import java.awt.Shape;
import java.awt.geom.Rectangle2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.text.DecimalFormat;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.axis.TickType;
import org.jfree.chart.axis.ValueTick;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's charts, drawn with JFreeChart off screen ({@code java.awt.headless}) and returned as PNG bytes.
 * One colour per strategy, in run order, the same in every chart of a scenario. Under the virtual clock the
 * charts of one run per strategy show the largest core count, and the scaling chart shows them all.
 */
public final class Charts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Color[] PALETTE = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0x7f7f7f), new Color(0xe377c2),
        new Color(0x17becf), new Color(0xbcbd22)};
    /** Percentiles plotted on latency curves (100 is drawn as the max). */
    private static final double[] PERCENTILES = {0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999};
    /** Dash patterns of a strategy's operations in the scaling chart: solid, dashed, dotted, dash-dot. */
    private static final float[][] DASHES = {{1f, 0f}, {8f, 4f}, {2f, 3f}, {8f, 3f, 2f, 3f}};
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 13);

    private Charts() {}

    static Paint colour(int runIndex) {
        return PALETTE[runIndex % PALETTE.length];
    }

    /**
     * Latency by percentile for operation {@code op}, one line per strategy; both axes logarithmic. Under the
     * virtual clock, the runs at the largest core count.
     */
    public static byte[] latencyCurve(ScenarioResult result, String op, int width, int height) throws IOException {
        CoreSweep sweep = CoreSweep.of(result);
        XYSeriesCollection data = new XYSeriesCollection();
        List<RunResult> runs = sweep.shown();
        for (RunResult r : runs) {
            XYSeries series = new XYSeries(r.strategy());
            OpStats s = r.ops().get(op);
            Histogram h = s == null ? null : s.histogram();
            if (h != null && h.getTotalCount() > 0) {
                for (double p : PERCENTILES) {
                    series.add(1 / (1 - p / 100), Math.max(0.001, h.getValueAtPercentile(p) / 1000.0));
                }
                series.add(1 / (1 - 99.9999 / 100), Math.max(0.001, h.getMaxValue() / 1000.0));
            }
            data.addSeries(series);
        }
        String yLabel = sweep.virtual() ? "virtual latency (us)" : "latency (us)";
        JFreeChart chart = ChartFactory.createXYLineChart(sweep.atLargest(op + ": latency by percentile"), "percentile",
                yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("percentile (last point: max)");
        x.setNumberFormatOverride(new PercentileFormat());
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setRange(1, 1e6);
        plot.setDomainAxis(x);
        LogAxis y = new LogAxis(yLabel);
        y.setNumberFormatOverride(new DecimalFormat("#,##0.###"));
        // Ticks one decade apart: 0.1, 1, 10, 100 us rather than arbitrary powers.
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        y.setAutoRange(true);
        plot.setRangeAxis(y);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < runs.size(); i++) {
            renderer.setSeriesPaint(i, sweep.colour(runs.get(i)));
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        style(chart);
        return png(chart, width, height);
    }

    /** Throughput of operation {@code op}, one bar per strategy (under the virtual clock: at the largest core count). */
    public static byte[] throughputBars(ScenarioResult result, String op, int width, int height) throws IOException {
        CoreSweep sweep = CoreSweep.of(result);
        List<RunResult> runs = sweep.shown();
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (RunResult r : runs) {
            OpStats s = r.ops().get(op);
            data.addValue(s == null ? 0 : s.perSecond(), r.strategy(), op);
        }
        JFreeChart chart = ChartFactory.createBarChart(sweep.atLargest(op + ": throughput"), null,
                sweep.virtual() ? "operations / virtual s" : "operations / s", data, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        for (int i = 0; i < runs.size(); i++) {
            renderer.setSeriesPaint(i, sweep.colour(runs.get(i)));
        }
        ((NumberAxis) plot.getRangeAxis()).setNumberFormatOverride(new DecimalFormat("#,##0"));
        style(chart);
        return png(chart, width, height);
    }

    /**
     * Total lock wait per strategy, split into true and false conflicts (under the virtual clock: at the largest
     * core count).
     */
    public static byte[] waitBars(ScenarioResult result, int width, int height) throws IOException {
        CoreSweep sweep = CoreSweep.of(result);
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (RunResult r : sweep.shown()) {
            long falseNs = r.waits().falseConflictWaitNs();
            data.addValue((r.waits().waitNs() - falseNs) / 1e6, "true conflicts", r.strategy());
            data.addValue(falseNs / 1e6, "false conflicts", r.strategy());
        }
        JFreeChart chart = ChartFactory.createStackedBarChart(sweep.atLargest("time spent waiting for mm locks"), null,
                sweep.virtual() ? "total virtual wait (ms, all threads)" : "total wait (ms, all threads)", data,
                PlotOrientation.HORIZONTAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        StackedBarRenderer renderer = (StackedBarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setSeriesPaint(0, new Color(0x4e79a7));
        renderer.setSeriesPaint(1, new Color(0xe15759));
        style(chart);
        return png(chart, width, height);
    }

    /**
     * Under the virtual clock, operations per virtual second against simulated cores: one line per strategy per
     * operation ({@code "rwsem faulters/fault"}), the strategy's colour, a dash and marker per operation; both
     * axes logarithmic, so a design that scales linearly climbs at 45 degrees and a serialised one stays flat.
     *
     * @throws IllegalArgumentException for a wall-clock result, which has no core counts
     */
    public static byte[] scaling(ScenarioResult result, int width, int height) throws IOException {
        CoreSweep sweep = CoreSweep.of(result);
        if (!sweep.virtual()) {
            throw new IllegalArgumentException(result.scenario() + " ran on the wall clock: no core counts to scale over");
        }
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        Shape[] shapes = DefaultDrawingSupplier.createStandardSeriesShapes();
        for (String strategy : sweep.strategies()) {
            for (int o = 0; o < sweep.ops().size(); o++) {
                String op = sweep.ops().get(o);
                XYSeries series = new XYSeries(strategy + " " + op);
                for (int n : sweep.cores()) {
                    RunResult r = sweep.run(strategy, n);
                    OpStats s = r == null ? null : r.ops().get(op);
                    if (s != null && s.perSecond() > 0) {
                        series.add(n, s.perSecond());
                    }
                }
                int i = data.getSeriesCount();
                data.addSeries(series);
                renderer.setSeriesPaint(i, sweep.colour(strategy));
                renderer.setSeriesStroke(i, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
                        DASHES[o % DASHES.length], 0f));
                renderer.setSeriesShape(i, shapes[o % shapes.length]);
            }
        }
        JFreeChart chart = ChartFactory.createXYLineChart("operations per virtual second against simulated cores",
                "simulated cores", "operations / virtual s", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setDomainAxis(new CoreAxis(sweep.cores()));
        LogAxis y = new LogAxis("operations / virtual s (log scale)");
        y.setNumberFormatOverride(new DecimalFormat("#,##0"));
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        y.setAutoRange(true);
        plot.setRangeAxis(y);
        plot.setRenderer(renderer);
        style(chart);
        return png(chart, width, height);
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(TITLE);
        if (chart.getPlot() instanceof XYPlot) {
            XYPlot p = (XYPlot) chart.getPlot();
            p.setBackgroundPaint(new Color(0xfafafa));
            p.setDomainGridlinePaint(new Color(0xdddddd));
            p.setRangeGridlinePaint(new Color(0xdddddd));
        } else if (chart.getPlot() instanceof CategoryPlot) {
            CategoryPlot p = (CategoryPlot) chart.getPlot();
            p.setBackgroundPaint(new Color(0xfafafa));
            p.setRangeGridlinePaint(new Color(0xdddddd));
        }
    }

    private static byte[] png(JFreeChart chart, int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(out, chart, width, height);
        return out.toByteArray();
    }

    /** A base-2 logarithmic axis with a tick at each core count run and nowhere else. */
    private static final class CoreAxis extends LogAxis {
        private static final long serialVersionUID = 1L;
        private final List<Integer> cores;

        CoreAxis(List<Integer> cores) {
            super("simulated cores (log scale)");
            this.cores = List.copyOf(cores);
            setBase(2);
            setRange(cores.get(0) / 1.4, cores.get(cores.size() - 1) * 1.4);
        }

        @Override
        protected List<ValueTick> refreshTicksHorizontal(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
            List<ValueTick> ticks = new ArrayList<>();
            for (int n : cores) {
                ticks.add(new NumberTick(TickType.MAJOR, n, Integer.toString(n), TextAnchor.TOP_CENTER,
                        TextAnchor.CENTER, 0));
            }
            return ticks;
        }
    }

    /** Labels {@code 1/(1-p)} ticks as percentiles: 10 -> 90%, 1000 -> 99.9%. */
    private static final class PercentileFormat extends NumberFormat {
        private static final long serialVersionUID = 1L;

        @Override
        public StringBuffer format(double number, StringBuffer toAppendTo, FieldPosition pos) {
            double p = 100 * (1 - 1 / number);
            return toAppendTo.append(new DecimalFormat("0.####").format(p)).append('%');
        }

        @Override
        public StringBuffer format(long number, StringBuffer toAppendTo, FieldPosition pos) {
            return format((double) number, toAppendTo, pos);
        }

        @Override
        public Number parse(String source, ParsePosition parsePosition) {
            return null;
        }
    }
}
