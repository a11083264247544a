module tinyhost.test/chart-render

go 1.21
