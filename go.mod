module github.com/hcproject/hc

go 1.26.8

require (
	github.com/go-ini/ini v1.67.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/sync v0.24.0 // indirect
)
