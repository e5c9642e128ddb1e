# gnuplot script of make soak: the soak series (ctest/soak/main.go's output) as a PNG.
#   gnuplot -e "data='build/soak/series.dat'; out='docs/soak.png'" ctest/soak/plot.gp
set terminal pngcairo size 900,480 font ",10"
set output out
set title "hc soak: 200 000 mixed requests, 5 % faults (last point: idle after the run)"
set xlabel "requests (thousands)"
set ylabel "memory (MiB)"
set y2label "goroutines, descriptors, threads"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key outside bottom center horizontal
set grid
plot data using ($1/1000):($2/1024) with linespoints lw 2 title "RSS", \
     data using ($1/1000):($3/1024) with linespoints title "Go heap in use", \
     data using ($1/1000):4 axes x1y2 with linespoints title "goroutines", \
     data using ($1/1000):5 axes x1y2 with linespoints title "descriptors", \
     data using ($1/1000):6 axes x1y2 with linespoints title "threads"
