#!/usr/bin/env bash
# Builds the gSOAP client of the integrator tests: build.sh DIR BUNDLE
#
# What an integrator does with gSOAP (Debian packages gsoap and libgsoap-dev): wsdl2h over every
# WSDL of the bundle at once (one header, tsgate.h, with this directory's typemap.dat: readable
# prefixes per namespace, xs:date as struct tm through custom/struct_tm_date.h), soapcpp2 -C -j
# (client side only, C++ proxy classes sharing one soap context), then g++ with OpenSSL, linking
# libgsoapssl++ (stdsoap2 built WITH_OPENSSL) and custom/struct_tm_date.c. The executable is
# DIR/client.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DIR BUNDLE" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
bundle=$(cd "$2" && pwd)
share=${GSOAP_SHARE:-/usr/share/gsoap}

for tool in wsdl2h soapcpp2 g++ pkg-config; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install gsoap libgsoap-dev g++ pkg-config" >&2; exit 1; }
done
[ -f /usr/include/stdsoap2.h ] || { echo "stdsoap2.h not found: apt-get install libgsoap-dev" >&2; exit 1; }

mkdir -p "$dir"
cd "$dir"
rm -f ./*.nsmap soap*.cpp soap*.h tsgate.h

# One header for the 11 services: the shared schemas (TipiDati, ErroreGateway) once.
wsdl2h -t "$here/typemap.dat" -o tsgate.h "$bundle"/*.wsdl >wsdl2h.log 2>&1 \
  || { cat wsdl2h.log >&2; exit 1; }
# -C client side, -j proxies sharing a soap context, -x no sample messages, -w no WSDL/XSD back.
soapcpp2 -C -j -x -w -I"$share/import:$share" tsgate.h >soapcpp2.log 2>&1 \
  || { cat soapcpp2.log >&2; exit 1; }
# Every binding's .nsmap is the same table (all the namespaces of the header): one is compiled in.
cp attivazioneTSCNSBinding.nsmap tsgate.nsmap

# The flags libgsoapssl++ was built with (WITH_OPENSSL, WITH_DOM, WITH_GZIP, WITH_IPV6): the
# soap struct must have the same layout in our code and in the library.
read -r -a cflags <<<"$(pkg-config --cflags gsoapssl++)"
read -r -a libs <<<"$(pkg-config --libs gsoapssl++)"
cxx=(g++ -std=c++17 -O0 -w -I. -I"$share" "${cflags[@]}")

# soapC.cpp is the big one: the units compile two at a time.
cp "$share/custom/struct_tm_date.c" struct_tm_date.cpp
cp "$here/client.cpp" client.cpp
units=(soapC.cpp struct_tm_date.cpp client.cpp soap*Proxy.cpp)
printf '%s\n' "${units[@]}" | xargs -P 2 -I{} "${cxx[@]}" -c {} -o {}.o
"${cxx[@]}" -o client.tmp ./*.cpp.o "${libs[@]}" -lssl -lcrypto
mv -f client.tmp client
rm -f ./*.cpp.o
echo "built $dir/client"
