// Command hello prints "Hello world!" and exits.
package main

import "fmt"

func main() {
	fmt.Println("Hello world!")
}
// mage bench: touched 2d0d427833808d5f-2
