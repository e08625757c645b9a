module github.com/ivrhq/ivr

go 1.26.8
