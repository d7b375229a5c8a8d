#!/usr/bin/env bash
# Builds the Java JAX-WS client of the integrator tests: build.sh DIR BUNDLE
#
# What an integrator does with Debian's JAX-WS RI (packages jaxws, libjaxws-java, libjaxb-java)
# on the JDK: wsimport over each WSDL of the bundle, one Java package per service
# (tsgate.client.<service>: the shared schemas TipiDati.xsd and ErroreGateway.xsd are bound
# again in each), -Xnocompile, then javac of the generated sources and Client.java. The WSDL
# location is not compiled in (the client passes each service the bundle's WSDL it is given).
# DIR gets classes/ and classpath (the JDK and the jars), which run.sh reads.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DIR BUNDLE" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
bundle=$(cd "$2" && pwd)
java_home=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
jars=/usr/share/java

for tool in wsimport "$java_home/bin/javac" "$java_home/bin/java"; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install jaxws openjdk-17-jdk-headless" >&2; exit 1; }
done
# Compile time: the APIs (JAX-WS, JAXB, JWS, SAAJ) and the RI's SchemaValidationFeature.
# jaxws-rt.jar's manifest Class-Path brings the rest of the runtime (JAXB RI, SAAJ RI, stax-ex,
# streambuffer, policy, gmbal, mimepull, activation) at run time.
cp="$jars/jaxws-api.jar:$jars/jaxb-api.jar:$jars/jws-api.jar:$jars/javax.xml.soap-api.jar:$jars/javax.activation.jar:$jars/jaxws-rt.jar"
for j in ${cp//:/ }; do
  [ -f "$j" ] || { echo "$j not found: apt-get install libjaxws-java libjaxb-java" >&2; exit 1; }
done

mkdir -p "$dir/src" "$dir/classes"
cd "$dir"
export JAVA_HOME=$java_home
for wsdl in "$bundle"/*.wsdl; do
  name=$(basename "$wsdl" .wsdl)
  pkg=tsgate.client.$(tr '[:upper:]' '[:lower:]' <<<"$name")
  wsimport -quiet -Xnocompile -encoding UTF-8 -s src -d classes -p "$pkg" -wsdllocation "$name.wsdl" \
    "$wsdl" >"wsimport-$name.log" 2>&1 || { cat "wsimport-$name.log" >&2; exit 1; }
done
cp "$here/Client.java" src/Client.java
find src -name '*.java' >sources.txt
"$java_home/bin/javac" -nowarn -encoding UTF-8 -cp "$cp" -d classes @sources.txt >javac.log 2>&1 \
  || { cat javac.log >&2; exit 1; }

# The runtime classpath run.sh uses (this directory's classes first).
printf '%s\n' "$java_home" "$cp" >classpath
echo "built $dir"
