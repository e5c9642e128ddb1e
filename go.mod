module github.com/hcproject/hc

go 1.26.8
