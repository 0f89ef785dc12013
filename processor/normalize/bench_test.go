package normalize

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// BenchmarkUserData is the stage's steady state for a fully populated French customer: the phone comes from the
// cache (the same customer sends many events).
func BenchmarkUserData(b *testing.B) {
	n := newNormalizer(b, "FR")
	src := frenchUser()
	b.ReportAllocs()
	for b.Loop() {
		ud := src
		n.UserData(&ud)
	}
}

// BenchmarkUserDataInto is BenchmarkUserData into caller memory, as the pipeline calls it.
func BenchmarkUserDataInto(b *testing.B) {
	n := newNormalizer(b, "FR")
	src := frenchUser()
	var d Digests
	b.ReportAllocs()
	for b.Loop() {
		ud := src
		n.UserDataInto(&ud, &d)
	}
}

// BenchmarkUserDataPhoneMiss is the worst case: every event brings a phone number the cache has not seen.
func BenchmarkUserDataPhoneMiss(b *testing.B) {
	n := newNormalizer(b, "FR")
	src := frenchUser()
	phones := distinctPhones(4 * phoneCacheShards * phoneCacheShardSize)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		ud := src
		ud.Ph = phones[i%len(phones)]
		i++
		n.UserData(&ud)
	}
}

// BenchmarkUserDataPrehashed is an upstream that already sends SHA-256 values: pass-through only.
func BenchmarkUserDataPrehashed(b *testing.B) {
	n := newNormalizer(b, "FR")
	src := frenchUser()
	n.UserData(&src)
	b.ReportAllocs()
	for b.Loop() {
		ud := src
		n.UserData(&ud)
	}
}

// BenchmarkPhoneLibrary is the uncached library parse, for comparison with the cache hit in BenchmarkPhoneCached.
func BenchmarkPhoneLibrary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		parsePhone("06 12 34 56 78", "FR")
	}
}

func BenchmarkPhoneCached(b *testing.B) {
	n := newNormalizer(b, "FR")
	b.ReportAllocs()
	for b.Loop() {
		n.Phone("06 12 34 56 78")
	}
}

func BenchmarkPhoneCachedParallel(b *testing.B) {
	n := newNormalizer(b, "FR")
	phones := distinctPhones(1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			n.Phone(phones[i%len(phones)])
			i++
		}
	})
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Hash("john_smith@gmail.com")
	}
}

func BenchmarkFields(b *testing.B) {
	in := frenchUser()
	for _, bb := range []struct {
		name string
		fn   func(string) (string, bool)
		in   string
	}{
		{"Email", Email, in.Em}, {"Name", Name, in.Fn}, {"Gender", Gender, in.Ge},
		{"DateOfBirth", DateOfBirth, in.Db}, {"City", City, in.Ct}, {"State", State, in.St}, {"Zip", Zip, in.Zp},
		{"Country", Country, in.Country},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bb.fn(bb.in)
			}
		})
	}
}

func distinctPhones(count int) []string {
	phones := make([]string, count)
	for i := range phones {
		phones[i] = fmt.Sprintf("06 %02d %02d %02d %02d", i/1000000%100, i/10000%100, i/100%100, i%100)
	}
	return phones
}

func BenchmarkEncodeHex(b *testing.B) {
	sums := make([][sha256.Size]byte, 64)
	for i := range sums {
		sums[i] = sha256.Sum256([]byte{byte(i)})
	}
	var dst [8][hexLen]byte
	i := 0
	for b.Loop() {
		encodeHex(&dst[i&7], sums[i&63])
		i++
	}
}
