// Command hello prints "Hello world!" and exits.
package main

import "fmt"

func main() {
	fmt.Println("Hello world!")
}
