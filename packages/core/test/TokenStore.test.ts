import * as TokenStore from "../src/TokenStore.js"
import { contract } from "./TokenStoreContract.js"

contract("TokenStore.layerMemory", TokenStore.layerMemory)
