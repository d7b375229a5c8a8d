#!/bin/sh
# Runs the Java JAX-WS client of the integrator tests: run.sh DIR AMBIENTE.json
# (DIR: what build.sh built). The JVM runs in Europe/Rome, as an Italian integrator's would:
# the GregorianCalendar the client builds its dates from carries that zone's offset.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 DIR AMBIENTE.json" >&2; exit 2; }
dir=$1
java_home=$(sed -n 1p "$dir/classpath")
cp=$(sed -n 2p "$dir/classpath")
# The SAAJ API 1.4.0 finds saaj-impl through the old META-INF/services name and logs a warning
# every time: naming the factory here spares the noise.
exec "$java_home/bin/java" -Duser.timezone=Europe/Rome \
  -Djavax.xml.soap.SAAJMetaFactory=com.sun.xml.messaging.saaj.soap.SAAJMetaFactoryImpl \
  -cp "$dir/classes:$cp" Client "$2"
