from connectorkit.cli.main import main

main()
