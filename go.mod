module github.com/go-multistage/multistage

go 1.24.0

tool github.com/magefile/mage

require github.com/klauspost/compress v1.19.2

require github.com/magefile/mage v1.17.2 // indirect
