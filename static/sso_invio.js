document.getElementById('invio').submit();
